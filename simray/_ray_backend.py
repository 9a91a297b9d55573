"""The `ray` backend: simray's API delegated to real Ray (`pip install simray[ray]`).

`simray exec --backend ray` runs a script against real Ray itself; this module serves programs
written against `simray` that choose `init(backend="ray")`. Ray's errors are raised as simray's
classes of the same name, so `except simray.exceptions.RayTaskError` works on every backend.
"""

from __future__ import annotations

from typing import Any

from simray import exceptions as sim_exc


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError(
            "backend 'ray' needs real Ray: pip install 'simray[ray]' (ray==2.60.0)"
        ) from e
    if ray.__name__ != "ray":
        raise RuntimeError(
            "backend 'ray' was asked for inside `simray exec` on the sim backend, where `import "
            "ray` is simray; run `simray exec --backend ray` instead"
        )
    return ray


def _translated(error: BaseException) -> BaseException:
    """Ray's exception as simray's class of the same name (the cause kept for task errors)."""
    ray = _ray()
    if isinstance(error, ray.exceptions.RayTaskError):
        # Ray raises its `RayTaskError(<Cause>)` class, which keeps only the cause and the text.
        cause = error.cause
        try:
            group = isinstance(cause, BaseExceptionGroup)
            return sim_exc._dual_class(type(cause), str(error), exception_group=group)(cause)
        except TypeError:  # a cause class that cannot be subclassed: Ray's own error, as is
            return error
    if isinstance(error, ray.exceptions.GetTimeoutError):
        return sim_exc.GetTimeoutError(str(error))
    if isinstance(error, ray.exceptions.TaskCancelledError):
        return sim_exc.TaskCancelledError(getattr(error, "task_id", None))
    return error


class RayBackend:
    """A session of real Ray, started here or (inside a Ray worker) already running."""

    name = "ray"

    def __init__(self, *, attach: bool = False, **init_args: Any):
        self._ray = _ray()
        self._remotes: dict[int, Any] = {}
        self._owns = not attach
        if not attach:
            args = {k: v for k, v in init_args.items() if v is not None}
            args.setdefault("include_dashboard", False)
            self._ray.init(**args)

    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any) -> Any:
        remote = self._remotes.get(id(opts))
        if remote is None:
            remote = self._remotes[id(opts)] = self._ray.remote(fn).options(**opts.raw)
        return remote.remote(*args, **kwargs)

    def get(self, refs: Any, timeout: float | None) -> Any:
        try:
            return self._ray.get(refs, timeout=timeout)
        except self._ray.exceptions.RayError as e:
            raise _translated(e) from None

    def wait(
        self, refs: list[Any], num_returns: int, timeout: float | None, fetch_local: bool
    ) -> Any:
        return self._ray.wait(
            refs, num_returns=num_returns, timeout=timeout, fetch_local=fetch_local
        )

    def put(self, value: Any) -> Any:
        return self._ray.put(value)

    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        self._ray.cancel(ref, force=force, recursive=recursive)

    def cluster_resources(self) -> dict[str, float]:
        return self._ray.cluster_resources()

    def available_resources(self) -> dict[str, float]:
        return self._ray.available_resources()

    def nodes(self) -> list[dict[str, Any]]:
        return self._ray.nodes()

    def context(self) -> dict[str, Any]:
        ctx = self._ray.get_runtime_context()
        worker = ctx.worker.mode == 1  # WORKER_MODE
        return {
            "node_id": ctx.get_node_id(),
            "task_id": ctx.get_task_id(),
            "assigned": ctx.get_assigned_resources() if worker else {},
            "gpu_ids": self._ray.get_gpu_ids(),
            "namespace": ctx.namespace,
            "cancelled": False,
            "worker": worker,
        }

    @property
    def namespace(self) -> str:
        return self._ray.get_runtime_context().namespace

    async def await_ref(self, ref: Any) -> Any:
        return await ref

    def ref_future(self, ref: Any) -> Any:
        return ref.future()

    def create_actor(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        raw = dict(opts.raw)
        groups = raw.pop("concurrency_groups", None)  # Ray takes it in @remote, not .options()
        decorated = (
            self._ray.remote(concurrency_groups=groups)(cls) if groups else self._ray.remote(cls)
        )
        return decorated.options(**raw).remote(*args, **kwargs)

    def submit_actor_task(
        self,
        actor: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        options: dict[str, Any] = {"num_returns": num_returns}
        if concurrency_group is not None:
            options["concurrency_group"] = concurrency_group
        return getattr(actor, method).options(**options).remote(*args, **kwargs)

    def kill(self, handle: Any, no_restart: bool) -> None:
        self._ray.kill(handle, no_restart=no_restart)

    def get_actor(self, name: str, namespace: str | None) -> Any:
        return self._ray.get_actor(name, namespace)

    def list_named_actors(self, all_namespaces: bool) -> list[Any]:
        return self._ray.util.list_named_actors(all_namespaces)

    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        return self._ray.util.placement_group(bundles, strategy=strategy, name=name)

    def remove_placement_group(self, record: Any) -> None:
        self._ray.util.remove_placement_group(record)

    def placement_group_table(self, record: Any) -> dict[str, Any]:
        return self._ray.util.placement_group_table(record)

    def placement_groups(self) -> list[Any]:
        return list(self._ray.util.placement_group_table().values())

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        return record.wait(timeout)

    def current_placement_group(self) -> Any:
        return self._ray.util.get_current_placement_group()

    def add_node(self, **spec: Any) -> Any:
        raise NotImplementedError(
            "simray.cluster.Cluster builds sim and local clusters; on backend 'ray' use "
            "ray.cluster_utils.Cluster"
        )

    def remove_node(self, node_id: str) -> None:
        self.add_node()

    def timeline(self, filename: str | None) -> Any:
        return self._ray.timeline(filename)

    def exit_actor(self) -> None:
        self._ray.actor.exit_actor()

    def runtime_context(self) -> Any:
        return self._ray.get_runtime_context()

    def shutdown(self) -> None:
        if self._owns:
            self._ray.shutdown()


def attach_if_in_ray_worker() -> RayBackend | None:
    """Inside a process where real Ray is initialized (a Ray worker), use it."""
    import sys

    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        return RayBackend(attach=True)
    return None
