"""`ray.util.state`: list, get and summarize tasks, actors, nodes, objects, placement groups,
workers and jobs, with Ray 2.60's field names, state values, filter syntax, `limit` and `detail`.

On `sim` the answers are exact at the current virtual instant (Ray's are eventually consistent,
so Ray's tests poll them). On the `ray` backend these are Ray's own functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar, cast

DEFAULT_LIMIT = 100
DEFAULT_RPC_TIMEOUT = 30

# kind -> (record class name, columns without detail, columns added by detail, filterable)
_SCHEMAS: dict[str, tuple[str, list[str], list[str], set[str]]] = {
    "tasks": (
        "TaskState",
        [
            "task_id", "attempt_number", "name", "state", "job_id", "actor_id", "type",
            "func_or_class_name", "parent_task_id", "node_id", "worker_id", "worker_pid",
            "error_type",
        ],
        [
            "language", "required_resources", "runtime_env_info", "placement_group_id",
            "events", "profiling_data", "creation_time_ms", "start_time_ms", "end_time_ms",
            "task_log_info", "error_message", "is_debugger_paused", "call_site",
            "label_selector", "fallback_strategy",
        ],
        {
            "actor_id", "attempt_number", "error_type", "func_or_class_name", "job_id",
            "language", "name", "node_id", "parent_task_id", "placement_group_id", "state",
            "task_id", "type", "worker_id", "worker_pid", "is_debugger_paused",
        },
    ),
    "actors": (
        "ActorState",
        ["actor_id", "class_name", "state", "job_id", "name", "node_id", "pid", "ray_namespace"],
        [
            "serialized_runtime_env", "required_resources", "death_cause", "is_detached",
            "placement_group_id", "repr_name", "num_restarts",
            "num_restarts_due_to_lineage_reconstruction", "num_restarts_due_to_node_preemption",
            "call_site", "label_selector", "fallback_strategy",
        ],
        {
            "actor_id", "class_name", "job_id", "name", "node_id", "pid", "placement_group_id",
            "ray_namespace", "repr_name", "state",
        },
    ),
    "nodes": (
        "NodeState",
        [
            "node_id", "node_ip", "is_head_node", "state", "state_message", "node_name",
            "resources_total", "labels",
        ],
        ["start_time_ms", "end_time_ms"],
        {"is_head_node", "node_id", "node_ip", "node_name", "state"},
    ),
    "placement_groups": (
        "PlacementGroupState",
        ["placement_group_id", "name", "creator_job_id", "state"],
        ["bundles", "is_detached", "stats", "topology_strategy", "topology_assignments"],
        {"creator_job_id", "is_detached", "name", "placement_group_id", "state"},
    ),
    "workers": (
        "WorkerState",
        ["worker_id", "is_alive", "worker_type", "exit_type", "node_id", "ip", "pid"],
        [
            "exit_detail", "worker_launch_time_ms", "worker_launched_time_ms", "start_time_ms",
            "end_time_ms", "debugger_port", "num_paused_threads",
        ],
        {
            "debugger_port", "exit_type", "ip", "is_alive", "node_id", "num_paused_threads",
            "pid", "worker_id", "worker_type",
        },
    ),
    "jobs": (
        "JobState",
        [
            "job_id", "submission_id", "entrypoint", "type", "status", "message", "error_type",
            "driver_info",
        ],
        [
            "start_time", "end_time", "metadata", "runtime_env", "driver_agent_http_address",
            "driver_node_id", "driver_exit_code",
        ],
        {"job_id", "status", "submission_id", "type"},
    ),
    "objects": (
        "ObjectState",
        [
            "object_id", "object_size", "task_status", "attempt_number", "reference_type",
            "call_site", "type", "pid", "ip",
        ],
        [],
        {
            "attempt_number", "call_site", "ip", "object_id", "object_size", "pid",
            "reference_type", "task_status", "type",
        },
    ),
}  # fmt: skip
_ID_FIELD = {
    "tasks": "task_id",
    "actors": "actor_id",
    "nodes": "node_id",
    "placement_groups": "placement_group_id",
    "workers": "worker_id",
    "jobs": "submission_id",  # Ray's get_job looks the id up among submission ids
    "objects": "object_id",
}


class JobType(str, Enum):  # noqa: UP042  (Ray's is this; str() differs from StrEnum)
    """Ray's job types (a str enum: compares equal to its value)."""

    SUBMISSION = "SUBMISSION"
    DRIVER = "DRIVER"


class JobStatus(str, Enum):  # noqa: UP042  (as Ray's)
    """Ray's job statuses; `str()` gives the bare value, as Ray's does."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return f"{self.value}"

    def is_terminal(self) -> bool:
        return self.value in {"STOPPED", "SUCCEEDED", "FAILED"}


class DriverInfo:
    """A job's driver (Ray's `DriverInfo`): `id`, `node_ip_address`, `pid` (a string)."""

    def __init__(self, id: str, node_ip_address: str, pid: str):
        self.id = id
        self.node_ip_address = node_ip_address
        self.pid = pid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DriverInfo) and vars(other) == vars(self)

    def __repr__(self) -> str:
        return f"DriverInfo(id={self.id!r}, node_ip_address={self.node_ip_address!r}, pid={self.pid!r})"


def _job_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A job row's values with Ray's types: the enums and a DriverInfo."""
    if fields.get("type") is not None:
        fields["type"] = JobType(fields["type"])
    if fields.get("status") is not None:
        fields["status"] = JobStatus(fields["status"])
    if isinstance(fields.get("driver_info"), dict):
        fields["driver_info"] = DriverInfo(**fields["driver_info"])
    return fields


class StateRecord:
    """One row (Ray's `ActorState`, `TaskState`, ...): fields as attributes, `get`, `asdict`."""

    _kind = "state"

    def __init__(self, fields: dict[str, Any]):
        self.__dict__.update(fields)

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def asdict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({inner})"


_RECORD_CLASSES = {
    kind: type(schema[0], (StateRecord,), {"_kind": kind}) for kind, schema in _SCHEMAS.items()
}
ActorState = _RECORD_CLASSES["actors"]
TaskState = _RECORD_CLASSES["tasks"]
NodeState = _RECORD_CLASSES["nodes"]
PlacementGroupState = _RECORD_CLASSES["placement_groups"]
WorkerState = _RECORD_CLASSES["workers"]
JobState = _RECORD_CLASSES["jobs"]
ObjectState = _RECORD_CLASSES["objects"]


def _backend() -> Any:
    from simray import _session

    return _session.backend()


_F = TypeVar("_F", bound=Callable[..., Any])


def _ray_s_on_ray(fn: _F) -> _F:
    """The one dispatch: on the `ray` backend, call Ray's function of the same name with every
    argument as given (`address`, `timeout`, ... included); on simray's backends, `fn`."""

    @functools.wraps(fn)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if _backend().name == "ray":
            import ray.util.state as ray_state

            return getattr(ray_state, fn.__name__)(*args, **kwargs)
        return fn(*args, **kwargs)

    return cast(_F, dispatch)


def _rows(kind: str) -> list[dict[str, Any]]:
    from simray._sim import state

    backend = _backend()
    rows = getattr(backend, "state_rows", None)
    if rows is not None:  # local: the driver answers from what it holds
        return rows(kind)
    if not hasattr(backend, "task_table"):
        raise NotImplementedError(
            f"ray.util.state is not provided on the {backend.name!r} backend yet; run the "
            "program on 'sim' (exact state at every virtual instant) or 'ray'"
        )
    return getattr(state, kind)(backend)


def _matches(row: dict[str, Any], column: str, predicate: str, value: Any) -> bool:
    """Ray's filter: case-insensitive for strings; a string value is converted for bool/int."""
    if column not in row:
        return False
    have = row[column]
    if isinstance(value, str) and isinstance(have, str):
        equal = have.lower() == value.lower()
    elif isinstance(value, str) and isinstance(have, bool):
        equal = have == (value.lower() in ("true", "1"))
    elif isinstance(value, str) and isinstance(have, int):
        try:
            equal = have == int(value)
        except ValueError:
            equal = False
    else:
        equal = have == value
    return equal if predicate == "=" else not equal


def _list(
    kind: str, filters: list[tuple[str, str, Any]] | None, limit: int, detail: bool
) -> list[Any]:
    _, base, extra, filterable = _SCHEMAS[kind]
    filters = list(filters or [])
    for _column, predicate, _ in filters:
        if predicate not in ("=", "!="):
            raise ValueError(
                f"Unsupported filter predicate {predicate} is given. Available predicates: =, !=."
            )
    for column, _, _ in filters:
        if column.lower() not in filterable:
            raise ValueError(
                f"The given filter column {column.lower()} is not supported. Enter filters with "
                "–-filter key=value or –-filter key!=value Supported filter columns: "
                "{" + ", ".join(repr(c) for c in sorted(filterable)) + "}"
            )
    out = []
    for row in _rows(kind):
        if all(_matches(row, c.lower(), p, v) for c, p, v in filters):
            # Ray's records have every field; without detail the detail ones are None.
            fields = {c: row.get(c) for c in base}
            fields.update({c: row.get(c) if detail else None for c in extra})
            if kind == "jobs":
                fields = _job_values(fields)
            out.append(_RECORD_CLASSES[kind](fields))
            if len(out) >= limit:
                break
    return out


def _get(kind: str, id: Any) -> Any:
    if not isinstance(id, str):  # get_task also takes the ObjectRef a task returned
        id = id.hex()
    found = _list(kind, [(_ID_FIELD[kind], "=", id)], limit=10_000, detail=True)
    if kind == "objects":  # one row per holder; Ray gives None when there is none
        return found or None
    if kind == "tasks":
        return found if len(found) > 1 else (found[0] if found else None)
    return found[0] if found else None


# -- list_* and get_*: one signature each (Ray's), made per kind ----------------------------------
def _list_function(kind: str, doc: str) -> Callable[..., list[Any]]:
    def list_kind(
        address: str | None = None,
        filters: list[tuple[str, str, Any]] | None = None,
        limit: int = DEFAULT_LIMIT,
        timeout: int = DEFAULT_RPC_TIMEOUT,
        detail: bool = False,
        raise_on_missing_output: bool = True,
        _explain: bool = False,
    ) -> list[Any]:
        return _list(kind, filters, limit, detail)

    list_kind.__name__ = list_kind.__qualname__ = f"list_{kind}"
    list_kind.__doc__ = doc
    return _ray_s_on_ray(list_kind)


def _get_function(name: str, kind: str, doc: str) -> Callable[..., Any]:
    def get_kind(
        id: str,
        address: str | None = None,
        timeout: int = DEFAULT_RPC_TIMEOUT,
        _explain: bool = False,
    ) -> Any:
        return _get(kind, id)

    get_kind.__name__ = get_kind.__qualname__ = name
    get_kind.__doc__ = doc
    return _ray_s_on_ray(get_kind)


list_actors = _list_function(
    "actors", "Actors of the session (every state, dead ones included), as `ActorState` rows."
)
list_tasks = _list_function("tasks", "Tasks and actor calls of the session, as `TaskState` rows.")
list_nodes = _list_function("nodes", "Nodes, alive and dead, as `NodeState` rows.")
list_placement_groups = _list_function(
    "placement_groups", "Placement groups, as `PlacementGroupState` rows."
)
list_workers = _list_function(
    "workers", "The driver and the actors' worker processes, as `WorkerState` rows."
)
list_jobs = _list_function("jobs", "The session's one job (its driver), as a `JobState` row.")
list_objects = _list_function(
    "objects",
    "Objects in scope, one `ObjectState` row per holder (owner, or a worker running with it "
    "as an argument), sorted by object id as Ray sorts them.",
)

get_actor = _get_function("get_actor", "actors", "The actor with this id, or None.")
get_task = _get_function(
    "get_task",
    "tasks",
    "The task with this id (or the `ObjectRef` it returned): its row, a list when it has "
    "several attempts, or None.",
)
get_node = _get_function("get_node", "nodes", "The node with this id, or None.")
get_placement_group = _get_function(
    "get_placement_group", "placement_groups", "The placement group with this id, or None."
)
get_worker = _get_function("get_worker", "workers", "The worker with this id, or None.")
get_job = _get_function("get_job", "jobs", "The job with this submission id, or None.")
get_objects = _get_function(
    "get_objects",
    "objects",
    "Every row of one object (None if it is not in scope), as Ray's `get_objects`.",
)


# -- summarize_* ----------------------------------------------------------------------------------
@_ray_s_on_ray
def summarize_tasks(
    address: str | None = None,
    timeout: int = DEFAULT_RPC_TIMEOUT,
    raise_on_missing_output: bool = True,
    _explain: bool = False,
) -> dict[str, Any]:
    """Task counts per function name and state, as Ray's `TaskSummaries` under "cluster"."""
    summary: dict[str, Any] = {}
    totals = {"total_tasks": 0, "total_actor_tasks": 0, "total_actor_scheduled": 0}
    for row in _rows("tasks"):
        key = row["name"] or row["func_or_class_name"]
        entry = summary.setdefault(
            key, {"func_or_class_name": key, "type": row["type"], "state_counts": {}}
        )
        entry["state_counts"][row["state"]] = entry["state_counts"].get(row["state"], 0) + 1
        kind = row["type"]
        if kind == "NORMAL_TASK":
            totals["total_tasks"] += 1
        elif kind == "ACTOR_TASK":
            totals["total_actor_tasks"] += 1
        elif kind == "ACTOR_CREATION_TASK":
            totals["total_actor_scheduled"] += 1
    return {"cluster": {"summary": summary, **totals, "summary_by": "func_name"}}


@_ray_s_on_ray
def summarize_actors(
    address: str | None = None,
    timeout: int = DEFAULT_RPC_TIMEOUT,
    raise_on_missing_output: bool = True,
    _explain: bool = False,
) -> dict[str, Any]:
    """Actor counts per class and state, as Ray's `ActorSummaries` under "cluster"."""
    summary: dict[str, Any] = {}
    rows = _rows("actors")
    for row in rows:
        entry = summary.setdefault(
            row["class_name"], {"class_name": row["class_name"], "state_counts": {}}
        )
        entry["state_counts"][row["state"]] = entry["state_counts"].get(row["state"], 0) + 1
    return {"cluster": {"summary": summary, "total_actors": len(rows), "summary_by": "class"}}


@_ray_s_on_ray
def summarize_objects(
    address: str | None = None,
    timeout: int = DEFAULT_RPC_TIMEOUT,
    raise_on_missing_output: bool = True,
    _explain: bool = False,
) -> dict[str, Any]:
    """Object counts and sizes per call site, as Ray's `ObjectSummaries` under "cluster"."""
    summary: dict[str, Any] = {}
    workers: dict[str, set[Any]] = {}
    nodes: dict[str, set[Any]] = {}
    total_size_mb = 0.0
    rows = _rows("objects")
    for row in rows:
        key = row["call_site"]
        entry = summary.setdefault(
            key,
            {
                "total_objects": 0,
                "total_size_mb": 0,
                "total_num_workers": 0,
                "total_num_nodes": 0,
                "task_state_counts": {},
                "task_attempt_number_counts": {},
                "ref_type_counts": {},
            },
        )
        for field, value in (
            ("task_state_counts", row["task_status"]),
            ("task_attempt_number_counts", str(row["attempt_number"])),
            ("ref_type_counts", row["reference_type"]),
        ):
            entry[field][value] = entry[field].get(value, 0) + 1
        entry["total_objects"] += 1
        if row["object_size"] != -1:
            entry["total_size_mb"] += row["object_size"] / 1024**2
            total_size_mb += row["object_size"] / 1024**2
        workers.setdefault(key, set()).add(row["pid"])
        nodes.setdefault(key, set()).add(row["ip"])
    for key, entry in summary.items():
        entry["total_num_workers"] = len(workers[key])
        entry["total_num_nodes"] = len(nodes[key])
    return {
        "cluster": {
            "summary": summary,
            "total_objects": len(rows),
            "total_size_mb": total_size_mb,
            "callsite_enabled": all(row["call_site"] != "disabled" for row in rows),
            "summary_by": "callsite",
        }
    }


__all__ = [
    "get_actor",
    "get_job",
    "get_node",
    "get_objects",
    "get_placement_group",
    "get_task",
    "get_worker",
    "list_actors",
    "list_jobs",
    "list_nodes",
    "list_objects",
    "list_placement_groups",
    "list_tasks",
    "list_workers",
    "summarize_actors",
    "summarize_objects",
    "summarize_tasks",
]
