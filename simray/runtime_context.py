"""`ray.runtime_context`: what the running driver, task or actor knows about itself.

`get_runtime_context()` asks the active backend for a snapshot of the caller's context (a dict)
and wraps it in `RuntimeContext`, whose methods answer as Ray 2.60's do, including in the driver
(None for task ids, Ray's assertion text for worker-only methods).
"""

from __future__ import annotations

from typing import Any

from simray._ray_ids import JOB_ID_HEX

_ACCELERATORS = ("GPU", "TPU", "NPU", "HPU", "neuron_cores", "MBLT", "RBLN", "TTNPU", "FURIOSA")
_NOT_WORKER = (
    "This method is only available when the process is a                 worker. Current mode: 0"
)


class RuntimeContext:
    """The context of the caller: the driver, a task, or an actor's method."""

    def __init__(self, info: dict[str, Any]):
        self._info = info

    # -- ids ------------------------------------------------------------------------------------
    def get_job_id(self) -> str:
        return self._info.get("job_id", JOB_ID_HEX)

    def get_node_id(self) -> str:
        return self._info["node_id"]

    def get_worker_id(self) -> str:
        return self._info.get("worker_id") or "ff" * 28

    def get_task_id(self) -> str | None:
        return self._info["task_id"]

    def get_actor_id(self) -> str | None:
        return self._info.get("actor_id")

    def get_placement_group_id(self) -> str | None:
        return self._info.get("pg_id")

    # -- names ----------------------------------------------------------------------------------
    def get_task_name(self) -> str | None:
        return self._info.get("task_name")

    def get_task_function_name(self) -> str | None:
        return self._info.get("function_name")

    def get_actor_name(self) -> str | None:
        """The actor's name ("" for an unnamed actor), None outside actors."""
        if self._info.get("actor_id") is None:
            return None
        return self._info.get("actor_name") or ""

    @property
    def namespace(self) -> str:
        return self._info["namespace"]

    # -- actors ---------------------------------------------------------------------------------
    @property
    def current_actor(self) -> Any:
        handle = self._info.get("actor_handle")
        if handle is None:
            raise RuntimeError("This method is only available in an actor.")
        return handle() if callable(handle) else handle

    @property
    def was_current_actor_reconstructed(self) -> bool:
        assert self._info["worker"], _NOT_WORKER
        assert self._info.get("actor_id") is not None, (
            "This method should't be called inside Ray tasks."
        )
        return bool(self._info.get("restarts"))

    # -- placement and resources ------------------------------------------------------------------
    @property
    def should_capture_child_tasks_in_placement_group(self) -> bool:
        return bool(self._info.get("capture"))

    def get_assigned_resources(self) -> dict[str, float]:
        assert self._info["worker"], _NOT_WORKER
        return dict(self._info["assigned"])

    def get_accelerator_ids(self) -> dict[str, list[str]]:
        ids = {name: [] for name in _ACCELERATORS}
        ids["GPU"] = [str(i) for i in self._info["gpu_ids"]]
        return ids

    def get_resource_ids(self) -> dict[str, list[str]]:
        """Deprecated in Ray for `get_accelerator_ids`."""
        return self.get_accelerator_ids()

    def get_node_labels(self) -> dict[str, str]:
        return dict(self._info.get("labels") or {"ray.io/node-id": self.get_node_id()})

    @property
    def runtime_env(self) -> dict[str, Any]:
        """The runtime environment of the caller (Ray returns a `RuntimeEnv`, a dict)."""
        return dict(self._info.get("runtime_env") or {})

    def get_runtime_env_string(self) -> str:
        import json

        return json.dumps(self.runtime_env)

    def is_canceled(self) -> bool:
        """Whether the current task (or sync actor call) was cancelled."""
        if self._info.get("async_actor"):
            raise RuntimeError("This method is not supported in an async actor.")
        return bool(self._info.get("cancelled"))

    # -- deprecated property forms (Ray warns and answers) ------------------------------------------
    @property
    def node_id(self) -> Any:
        from simray._ray_ids import NodeID

        return NodeID.from_hex(self.get_node_id())

    @property
    def task_id(self) -> Any:
        from simray._ray_ids import TaskID

        task_id = self.get_task_id()
        return TaskID.from_hex(task_id) if task_id is not None else None

    @property
    def job_id(self) -> Any:
        from simray._ray_ids import JobID

        return JobID.from_hex(self.get_job_id())

    @property
    def actor_id(self) -> Any:
        from simray._ray_ids import ActorID

        assert self._info["worker"], _NOT_WORKER
        actor_id = self.get_actor_id()
        return ActorID.from_hex(actor_id) if actor_id is not None else None

    @property
    def current_placement_group_id(self) -> Any:
        from simray._ray_ids import PlacementGroupID

        pg_id = self.get_placement_group_id()
        return PlacementGroupID.from_hex(pg_id) if pg_id else PlacementGroupID.nil()

    def get(self) -> dict[str, Any]:
        """Deprecated in Ray: a dict of the ids."""
        context: dict[str, Any] = {
            "job_id": self.job_id,
            "node_id": self.node_id,
            "namespace": self.namespace,
        }
        if self._info["worker"]:
            if self.task_id is not None:
                context["task_id"] = self.task_id
            if self.actor_id is not None:
                context["actor_id"] = self.actor_id
        return context

    @property
    def worker(self) -> Any:
        return None

    @property
    def gcs_address(self) -> str:
        return self._info.get("gcs_address", "127.0.0.1:6379")

    def get_temp_dir(self) -> str:
        return "/tmp/ray"

    def get_session_name(self) -> str:
        return "session_simray"


def get_runtime_context() -> Any:
    """The context of the caller: the driver, or the task or actor it runs in.

    On the `ray` backend this is Ray's own `RuntimeContext`.
    """
    from simray import _session

    backend = _session.backend()
    if backend.name == "ray":
        return backend.runtime_context()
    return RuntimeContext(backend.context())
