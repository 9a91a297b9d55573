"""The one backend interface: everything the api layer asks of a backend (sim, local, ray).

The api layer (`_api`, `_actor`, `_remote_function`, `_object_ref`, `util`, `cluster`) reaches
the running backend only through `_session.backend()` and calls only what `Backend` lists; it
imports no backend module. A backend is chosen by name at `init` (see `_session.BACKENDS`).

Values the api layer hands over are already validated: `opts` is a `_options.TaskOptions` or an
`_actor.ActorOptions` (resolved once per `.options()`), refs are `_object_ref.ObjectRef`s, actor
handles are `_actor.ActorHandle`s whose `_actor` is the backend's own actor record.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """A running session of one backend, created by `init` and ended by `shutdown`."""

    name: str  # "sim", "local" or "ray"
    namespace: str  # the job's namespace (named actors default to it)

    # -- tasks ---------------------------------------------------------------------------------
    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any) -> Any:
        """Submit `fn(*args, **kwargs)`; its ref, list of `num_returns` refs, or None (0)."""
        ...

    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        """Cancel the task (or actor call) that makes `ref`: pending ones never run, running
        ones get KeyboardInterrupt, `force` kills a task's worker."""
        ...

    # -- objects -------------------------------------------------------------------------------
    def get(self, refs: Any, timeout: float | None) -> Any:
        """The value of one ref, or the values of a list in order; raises the first error or
        GetTimeoutError. A blocked normal task gives its CPU back meanwhile."""
        ...

    def wait(
        self, refs: list[Any], num_returns: int, timeout: float | None, fetch_local: bool
    ) -> tuple[list[Any], list[Any]]:
        """(ready, not ready), both in input order; arguments were checked by the api layer."""
        ...

    def put(self, value: Any) -> Any:
        """Store a copy of `value`; its ref."""
        ...

    def await_ref(self, ref: Any) -> Any:
        """A coroutine for `await ref`: the value, or the stored error raised."""
        ...

    def ref_future(self, ref: Any) -> Any:
        """A `concurrent.futures.Future` set when `ref` resolves."""
        ...

    # -- actors --------------------------------------------------------------------------------
    def create_actor(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        """Create an actor (asynchronously); its `ActorHandle`."""
        ...

    def submit_actor_task(
        self,
        actor: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        """Call `method` on the actor record `actor`; ref(s) as `submit_task`. `concurrency_group`
        (from `.options()`) overrides the method's own concurrency group."""
        ...

    def kill(self, handle: Any, no_restart: bool) -> None:
        """Kill the actor now: running and queued calls fail with ActorDiedError."""
        ...

    def get_actor(self, name: str, namespace: str | None) -> Any:
        """The handle of a live named actor; ValueError if there is none."""
        ...

    def list_named_actors(self, all_namespaces: bool) -> list[Any]:
        """Names (or {"name", "namespace"} dicts with all_namespaces) of live named actors."""
        ...

    # -- placement groups -----------------------------------------------------------------------
    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        """Reserve bundles (asynchronously); the backend's group record."""
        ...

    def remove_placement_group(self, record: Any) -> None: ...

    def placement_group_table(self, record: Any) -> dict[str, Any]: ...

    def placement_groups(self) -> list[Any]: ...

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        """Block until the group is placed; False if `timeout` passed first."""
        ...

    def current_placement_group(self) -> Any:
        """The group of the calling task or actor, or None."""
        ...

    # -- cluster state ---------------------------------------------------------------------------
    def cluster_resources(self) -> dict[str, float]: ...

    def available_resources(self) -> dict[str, float]: ...

    def nodes(self) -> list[dict[str, Any]]:
        """One dict per node ever added, in order, with Ray's keys (`NodeID`, `Alive`, ...)."""
        ...

    def add_node(self, **spec: Any) -> Any:
        """Add a node while running (`simray.cluster.Cluster`); a record with `.node_id`."""
        ...

    def remove_node(self, node_id: str) -> None:
        """The node dies now, with the tasks, actors and objects on it."""
        ...

    # -- the caller ----------------------------------------------------------------------------
    def context(self) -> dict[str, Any]:
        """The caller's runtime context: node_id, task_id, actor_id, assigned, gpu_ids,
        namespace, cancelled, worker (see `_api.RuntimeContext`)."""
        ...

    def shutdown(self) -> None:
        """End the session: no process, thread or patched module of it stays behind."""
        ...
