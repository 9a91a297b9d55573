"""What `ray.util.state` reports on `sim`: rows with Ray 2.60's field names and state values,
computed from the session's records at the current virtual instant (so they are exact at every
instant, where Ray's are eventually consistent).

Like Ray's GCS, the task table keeps at most `RAY_task_events_max_num_task_in_gcs` tasks (Ray
2.60's default 100,000; 0 or less keeps all): past that, it drops the oldest finished task (in
the order they finished), else the oldest actor call or actor creation, else the oldest other
task, running or failed, each in submission order. Every row kept stays exact."""

from __future__ import annotations

import os
from typing import Any

from simray._ray_ids import JOB_ID_HEX, worker_id_hex
from simray._sim.actors import ActorCall, EndedCall
from simray._sim.task_cap import DEFAULT_MAX_TASKS as DEFAULT_MAX_TASKS
from simray._sim.task_cap import task_table_cap as task_table_cap
from simray._sim.tasks import FINISHED, QUEUED, RUNNING, WAITING_DEPS, EndedTask, Task

_PID = 4242


_TASK_STATES = {
    WAITING_DEPS: "PENDING_ARGS_AVAIL",
    QUEUED: "PENDING_NODE_ASSIGNMENT",
    RUNNING: "RUNNING",
}
_ACTOR_STATES = {"pending creation": "PENDING_CREATION", "alive": "ALIVE", "dead": "DEAD"}


def error_type_of(error: BaseException | None) -> str | None:
    """Ray's ErrorType name for a failed task."""
    if error is None:
        return None
    from simray import exceptions as exc

    for cls, name in (
        (exc.TaskCancelledError, "TASK_CANCELLED"),
        (exc.ActorDiedError, "ACTOR_DIED"),
        (exc.WorkerCrashedError, "WORKER_DIED"),
        (exc.NodeDiedError, "NODE_DIED"),
        (exc.TaskPlacementGroupRemoved, "TASK_PLACEMENT_GROUP_REMOVED"),
        (exc.ActorUnavailableError, "ACTOR_UNAVAILABLE"),
    ):
        if isinstance(error, cls):
            return name
    return "TASK_EXECUTION_EXCEPTION"


DRIVER_TASK_ID = "ff" * 20 + JOB_ID_HEX  # Ray's id of the driver's task (parent of its calls)
_RUNTIME_ENV_CONFIG = {"setup_timeout_seconds": 600, "eager_install": True, "log_files": []}


def _ms(t: float | None) -> int | None:
    """A virtual time as Ray's integer milliseconds (since the session started, on sim)."""
    return None if t is None else int(round(t * 1000))


def _events(kind: str, unit: Any, state: str, created_at: float) -> list[dict[str, Any]]:
    """Ray's state transitions of a task (`events`), at the virtual times simray knows."""
    created, started, ended = created_at * 1000, unit.started_at, unit.ended_at
    steps = [("PENDING_ARGS_AVAIL", created), ("PENDING_NODE_ASSIGNMENT", created)]
    if kind == "ACTOR_TASK":
        steps += [
            ("SUBMITTED_TO_WORKER", created),
            ("PENDING_ACTOR_TASK_ORDERING_OR_CONCURRENCY", created),
        ]
    if started is not None:
        if kind == "NORMAL_TASK":
            steps.append(("SUBMITTED_TO_WORKER", started * 1000))
        steps.append(("RUNNING", started * 1000))
    if ended is not None and state in ("FINISHED", "FAILED"):
        steps.append((state, ended * 1000))
    return [{"state": name, "created_ms": float(round(at))} for name, at in steps]


def _profiling(unit: Any, worker_id: str | None, node: Any) -> dict[str, Any]:
    """Ray's `profiling_data`: the worker's `task:execute` span once it ended."""
    if worker_id is None or unit.started_at is None or unit.ended_at is None:
        return {}
    return {
        "component_type": "worker",
        "component_id": worker_id,
        "node_ip_address": node.ip if node is not None else "127.0.0.1",
        "events": [
            {
                "start_time": unit.started_at * 1000,
                "end_time": unit.ended_at * 1000,
                "extra_data": {},
                "event_name": "task:execute",
            }
        ],
    }


def detail_columns(
    kind: str,
    unit: Any,
    state: str,
    raw: dict[str, Any],
    worker_id: str | None,
    node: Any,
    created_at: float | None = None,
) -> dict[str, Any]:
    """The detail columns Ray 2.60 adds to every task row (`created_at`: when it was submitted,
    else the unit's own `created_at`)."""
    import json

    if created_at is None:
        created_at = unit.created_at

    return {
        "runtime_env_info": {
            "serialized_runtime_env": json.dumps(raw.get("runtime_env") or {}),
            "runtime_env_config": dict(_RUNTIME_ENV_CONFIG),
        },
        "events": _events(kind, unit, state, created_at),
        "profiling_data": _profiling(unit, worker_id, node),
        "creation_time_ms": _ms(created_at),
        "start_time_ms": _ms(unit.started_at),
        "end_time_ms": _ms(unit.ended_at) if state in ("FINISHED", "FAILED") else None,
        # A normal task's log span; sim writes no log files, so there are no paths.
        "task_log_info": {
            "stdout_file": None,
            "stderr_file": None,
            "stdout_start": 0,
            "stdout_end": 0,
            "stderr_start": 0,
            "stderr_end": 0,
        }
        if kind == "NORMAL_TASK" and unit.started_at is not None
        else None,
        "is_debugger_paused": None,
        "call_site": None,
        "label_selector": dict(raw.get("label_selector") or {}),
        "fallback_strategy": {"options": list(raw.get("fallback_strategy") or [])},
    }


def _task_row(backend: Any, unit: Any, state: str, error: BaseException | None) -> dict[str, Any]:
    if type(unit) is Task or type(unit) is EndedTask:
        creating = getattr(unit.opts, "actor", None)
        parent_hex = unit.parent_hex()
        node = unit.node
        worker = (
            worker_id_hex(f"task-{unit.task_id}-{unit.attempt}", backend.seed)
            if node is not None
            else None
        )
        kind = "ACTOR_CREATION_TASK" if creating is not None else "NORMAL_TASK"
        name = unit.name
        raw = getattr(unit.opts, "raw", None) or {}
        if creating is not None:
            name = f"{creating.opts.class_name}.__init__"
            raw = creating.opts.raw
        row = {
            "task_id": unit.hex(),
            "attempt_number": unit.attempt,
            # Ray names a named actor's creation task "name:Class.__init__".
            "name": f"{creating.opts.name}:{name}"
            if creating is not None and creating.opts.name
            else name,
            "state": state,
            "job_id": JOB_ID_HEX,
            "actor_id": creating.hex() if creating is not None else None,
            "type": kind,
            "func_or_class_name": name,
            "parent_task_id": parent_hex if parent_hex is not None else DRIVER_TASK_ID,
            # Ray reports an actor's creation task with its pid but no node or worker id.
            "node_id": node.node_id if node is not None and creating is None else None,
            "worker_id": worker if creating is None else None,
            "worker_pid": _PID if node is not None else None,
            "error_type": error_type_of(error),
            "language": "PYTHON",
            "required_resources": {k: v / 10_000 for k, v in unit.demand.items()},
            "placement_group_id": placement_group_hex(unit.strategy),
            "error_message": str(error) if error is not None else None,
        }
        created_at = backend.submit_times.of(unit.task_id)
        row.update(detail_columns(kind, unit, state, raw, worker, node, created_at))
        return row
    actor = unit.actor
    name = f"{actor.opts.class_name}.{unit.method}"
    started = state not in ("PENDING_ACTOR_TASK_ORDERING_OR_CONCURRENCY", "PENDING_ARGS_AVAIL")
    if type(unit) is EndedCall:  # the actor's node and restarts when the call ended
        node, restarts = unit.node, unit.restarts
    else:
        node, restarts = actor.node, actor.restarts
    worker = worker_id_hex(f"actor-{actor.actor_id}-{restarts}", backend.seed) if started else None
    row = {
        "task_id": unit.hex(),
        "attempt_number": unit.attempts - 1,
        "name": name,
        "state": state,
        "job_id": JOB_ID_HEX,
        "actor_id": actor.hex(),
        "type": "ACTOR_TASK",
        "func_or_class_name": name,
        "parent_task_id": DRIVER_TASK_ID,
        "node_id": node.node_id if node is not None and started else None,
        "worker_id": worker,
        "worker_pid": _PID if started else None,
        "error_type": error_type_of(error),
        "language": "PYTHON",
        "required_resources": {},
        "placement_group_id": placement_group_hex(actor.opts.strategy),
        "error_message": str(error) if error is not None else None,
    }
    row.update(detail_columns("ACTOR_TASK", unit, state, actor.opts.raw, worker, node))
    return row


def placement_group_hex(strategy: Any) -> str | None:
    pg = getattr(strategy, "placement_group", None)
    return pg.id.hex() if pg is not None else None


def snapshot(backend: Any, unit: Any, error: BaseException | None = None) -> dict[str, Any]:
    """The final row of a task or call that ended (FINISHED or FAILED)."""
    returns = unit.returns
    if error is None and returns and returns[0].state == 2:
        error = returns[0].stored
    return _task_row(backend, unit, "FAILED" if error is not None else "FINISHED", error)


def tasks(backend: Any) -> list[dict[str, Any]]:
    rows = []
    for unit in backend.task_table.values():
        if type(unit) is EndedTask or type(unit) is EndedCall:
            rows.append(
                _task_row(backend, unit, "FAILED" if unit.error else "FINISHED", unit.error)
            )
        elif type(unit) is Task:
            if unit.state == FINISHED:
                rows.append(snapshot(backend, unit))
            else:
                rows.append(_task_row(backend, unit, _TASK_STATES.get(unit.state, "NIL"), None))
        elif type(unit) is ActorCall:
            if unit.state == "running":
                state = "RUNNING"
            elif unit.deps_left:
                state = "PENDING_ARGS_AVAIL"
            else:
                state = "PENDING_ACTOR_TASK_ORDERING_OR_CONCURRENCY"
            rows.append(_task_row(backend, unit, state, None))
    return rows


def actors(backend: Any) -> list[dict[str, Any]]:
    rows = []
    for actor in backend.actors.all:
        state = _ACTOR_STATES.get(actor.state, "DEAD")
        if state == "PENDING_CREATION" and actor.restarts:
            state = "RESTARTING"
        rows.append(actor_row(backend, actor, state, _PID if actor.node is not None else None))
    return rows


def actor_row(backend: Any, actor: Any, state: str, pid: int | None) -> dict[str, Any]:
    """Ray's row of one actor (an `ActorRecord` of sim or local) in state `state`."""
    return {
        "actor_id": actor.hex(),
        "class_name": actor.opts.class_name,
        "state": state,
        "job_id": JOB_ID_HEX,
        "name": actor.opts.name or "",
        "node_id": actor.node.node_id if actor.node is not None else None,
        "pid": pid,
        "ray_namespace": actor.namespace,
        "serialized_runtime_env": "{}",
        "required_resources": {k: v / 10_000 for k, v in actor.opts.lifetime_demand.items()},
        "death_cause": _death_cause(backend, actor) if actor.death else None,
        "is_detached": actor.opts.lifetime == "detached",
        "placement_group_id": placement_group_hex(actor.opts.strategy),
        "repr_name": "",
        "num_restarts": actor.restarts,
        "num_restarts_due_to_lineage_reconstruction": 0,
        "num_restarts_due_to_node_preemption": 0,
        "call_site": None,
        "label_selector": actor.opts.raw.get("label_selector") or {},
        "fallback_strategy": None,
    }


def _death_cause(backend: Any, actor: Any) -> dict[str, Any]:
    """Ray's `death_cause` of a dead actor: its `creation_task_failure_context` when its
    constructor raised, else its `actor_died_error_context`, whose error_message is the one
    line that says why (the error's header and its tab-indented fields are not part of it)."""
    death = actor.death
    text = str(death)
    if getattr(death, "actor_init_failed", False):  # the constructor raised
        return {"creation_task_failure_context": _creation_failure(death, text)}
    lines = text.splitlines()
    if lines and lines[0] == getattr(death, "BASE_ERROR_MSG", None):  # built from a context
        text = next((ln for ln in lines[1:] if not ln.startswith("\t")), "")
    if "ray.kill" in text:
        reason = "RAY_KILL"
    elif "all references to the actor were removed" in text:
        reason = "OUT_OF_SCOPE"
    else:  # Ray 2.60 says WORKER_DIED for exit_actor() and __ray_terminate__ too
        reason = "WORKER_DIED"
    node = actor.node
    never_started = node is None if actor.never_started is None else actor.never_started
    return {
        "actor_died_error_context": {
            "error_message": text,
            "owner_id": JOB_ID_HEX + "ff" * 24,
            "owner_ip_address": backend.scheduler.all_nodes[0].ip,
            # Ray's are empty for an actor that never had a process
            "node_ip_address": node.ip if node is not None else "",
            "pid": actor.death_pid if node is not None else 0,  # its last process's
            "name": actor.opts.name or "",
            "ray_namespace": actor.namespace,
            "class_name": actor.opts.class_name,
            "actor_id": actor.hex(),
            "reason": reason,
            "never_started": never_started,
        }
    }


def _creation_failure(death: BaseException, text: str) -> dict[str, Any]:
    """Ray's `creation_task_failure_context`: the error pickled (base64), its traceback as
    text, the language."""
    import base64
    import pickle

    try:
        serialized = base64.b64encode(pickle.dumps(death)).decode()
    except Exception:  # noqa: BLE001 - an error that does not pickle is still reported
        serialized = ""
    kind = type(death)
    return {
        "serialized_exception": serialized,
        "formatted_exception_string": f"{kind.__module__}.{kind.__name__}: {text}\n",
        "language": "PYTHON",
    }


def nodes(backend: Any) -> list[dict[str, Any]]:
    return [
        {
            "node_id": n.node_id,
            "node_ip": n.ip,
            "is_head_node": n.is_head,
            "state": "ALIVE" if n.alive else "DEAD",
            "state_message": None if n.alive else "Unexpected termination: the node died",
            "node_name": n.ip,
            "resources_total": {k: v / 10_000 for k, v in n.resources.total.items()},
            "labels": {"ray.io/node-id": n.node_id, **n.labels},
            # Virtual ms since the session started; Ray's end time is 0 while the node lives.
            "start_time_ms": _ms(getattr(n, "started_at", 0.0)),
            "end_time_ms": _ms(getattr(n, "ended_at", None)) or 0,
        }
        for n in backend.scheduler.all_nodes
    ]


def placement_groups(backend: Any) -> list[dict[str, Any]]:
    rows = []
    for pg in backend.pgs.all:
        table = backend.pgs.table(pg)
        rows.append(
            {
                "placement_group_id": pg.hex(),
                "name": pg.name,
                "creator_job_id": JOB_ID_HEX,
                "state": pg.state,
                "bundles": [
                    {
                        "bundle_id": {"placement_group_id": pg.hex(), "bundle_index": i},
                        "node_id": table["bundles_to_node_id"].get(i),
                        "unit_resources": res,
                        "label_selector": {},
                    }
                    for i, res in table["bundles"].items()
                ],
                "is_detached": False,
                "stats": table["stats"],
                "topology_strategy": {},
                "topology_assignments": {},
            }
        )
    return rows


def workers(backend: Any) -> list[dict[str, Any]]:
    head = backend.scheduler.all_nodes[0]
    rows = [
        {
            "worker_id": worker_id_hex("driver", backend.seed),
            "is_alive": True,
            "worker_type": "DRIVER",
            "exit_type": None,
            "node_id": head.node_id,
            "ip": head.ip,
            "pid": _PID,
            "exit_detail": None,
            **_worker_times(0.0, None, launched=False),
        }
    ]
    for actor in backend.actors.all:
        if actor.node is None:
            continue
        dead = actor.state == "dead"
        rows.append(
            {
                "worker_id": worker_id_hex(
                    f"actor-{actor.actor_id}-{actor.restarts}", backend.seed
                ),
                "is_alive": not dead,
                "worker_type": "WORKER",
                "exit_type": "INTENDED_USER_EXIT" if dead else None,
                "node_id": actor.node.node_id,
                "ip": actor.node.ip,
                "pid": _PID,
                "exit_detail": str(actor.death) if dead else None,
                **_worker_times(getattr(actor, "started_at", 0.0), None, launched=True),
            }
        )
    return rows


def _worker_times(start: float, end: float | None, launched: bool) -> dict[str, Any]:
    """Ray's worker time columns; a driver was never launched by a raylet (Ray's uint64 max)."""
    never = 2**64 - 1
    return {
        "worker_launch_time_ms": _ms(start) if launched else never,
        "worker_launched_time_ms": _ms(start) if launched else never,
        "start_time_ms": _ms(start),
        "end_time_ms": _ms(end) or 0,
        "debugger_port": None,
        "num_paused_threads": None,
    }


def jobs(backend: Any) -> list[dict[str, Any]]:
    import sys

    return [
        {
            "job_id": JOB_ID_HEX,
            "submission_id": None,
            "entrypoint": " ".join([sys.executable, *sys.argv]),
            "type": "DRIVER",
            "status": "RUNNING",
            "message": None,
            "error_type": None,
            "driver_info": {"id": JOB_ID_HEX, "node_ip_address": "127.0.0.1", "pid": str(_PID)},
            "start_time": 0,
            "end_time": 0,
            "metadata": {},
            "runtime_env": {},
            "driver_agent_http_address": None,
            "driver_node_id": None,
            "driver_exit_code": None,
        }
    ]


# -- objects ---------------------------------------------------------------------------------------
_NIL_OWNER = None  # SimRef.owner of objects the driver made


def _object_size(ref: Any) -> int:
    """Bytes of the stored value (its pickled size; Ray's serialized sizes differ by a few bytes
    of framing); -1 while the object does not exist yet, as in Ray."""
    import pickle

    from simray._sim.objects import PENDING, Packed

    if ref.state == PENDING:
        return -1
    stored = ref.stored
    if type(stored) is Packed:
        return len(stored.data)
    if type(stored) in (bytes, str):
        return len(stored)
    try:
        import cloudpickle

        return len(cloudpickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return -1


def _producer_status(ref: Any) -> tuple[str, int]:
    """The owner's view of the task making `ref` (Ray's `rpc::TaskStatus`) and its attempt."""
    from simray._sim.objects import PENDING, SimRef

    if ref.state != PENDING:
        return "FINISHED", 1  # Ray reports FINISHED for an error stored as the value, too
    unit = ref.task
    if unit is None:
        return "NIL", 1
    if type(unit) is Task:
        if unit.state == WAITING_DEPS:  # its arguments resolved: on its way to the scheduler
            waits = unit.deps_left or any(
                type(a) is SimRef and a.state == PENDING
                for a in list(unit.args) + list(unit.kwargs.values())
            )
            status = "PENDING_ARGS_AVAIL" if waits else "PENDING_NODE_ASSIGNMENT"
        elif unit.state == QUEUED:
            status = "PENDING_NODE_ASSIGNMENT"
        else:
            status = "SUBMITTED_TO_WORKER"
        return status, unit.attempt + 1 if unit.state == RUNNING else max(unit.attempt, 1)
    if unit.deps_left:
        return "PENDING_ARGS_AVAIL", unit.attempts
    return "SUBMITTED_TO_WORKER", unit.attempts


def call_site(module: str | None, qualname: str) -> str:
    """Ray's call site for the copy of an argument a running worker holds: the function's
    module (the script's name for `__main__`) and qualified name (sim and local)."""
    import sys

    module = module or "__main__"
    if module == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None) or "__main__"
        module = os.path.splitext(os.path.basename(main_file))[0]
    return f"(deserialize task arg) {module}.{qualname}"


def _call_site_of(unit: Any) -> str:
    """The call site of a running sim task's or call's arguments."""
    if type(unit) is Task:
        fn = unit.fn
        return call_site(getattr(fn, "__module__", None), getattr(fn, "__qualname__", unit.name))
    cls = unit.actor.cls if hasattr(unit.actor, "cls") else None
    return call_site(
        getattr(cls, "__module__", None), f"{unit.actor.opts.class_name}.{unit.method}"
    )


def object_row(object_id: str, size: int, status: str, attempt: int, reference: str,
               call_site: str, kind: str, pid: int, ip: str) -> dict[str, Any]:  # fmt: skip
    """One row of `list_objects`, with Ray 2.60's fields (sim and local)."""
    return {
        "object_id": object_id,
        "object_size": size,
        "task_status": status,
        "attempt_number": attempt,
        "reference_type": reference,
        "call_site": call_site,
        "type": kind,
        "pid": pid,
        "ip": ip,
    }


def _built(unit: Any) -> bool:
    """Whether a task or call that `gc.get_objects()` found was fully constructed. The livelock
    guard raises asynchronously, so it can stop a constructor half-way, and the error's
    traceback keeps that object alive (it belongs to no session; reading it would fail)."""
    try:
        unit.returns, unit.args, unit.kwargs, unit.state  # noqa: B018
    except AttributeError:
        return False
    return True


def actor_handle_id(actor: Any) -> str:
    """The object id Ray lists an actor's handle under: its creation task's return, whose
    TaskID is `ff`*8 + the ActorID (so Ray's `_is_object_ref_actor_handle` knows it)."""
    return "ff" * 8 + actor.hex() + "01000000"


def actor_handle_row(actor: Any, pid: int, ip: str) -> dict[str, Any]:
    """The driver's ACTOR_HANDLE row of an actor it holds a handle (or its id's ref) of."""
    return object_row(actor_handle_id(actor), -1, "NIL", 1, "ACTOR_HANDLE", "disabled", "DRIVER",
                      pid, ip)  # fmt: skip


def objects(backend: Any) -> list[dict[str, Any]]:
    """Ray's object rows: one per (object, worker holding a reference to it), sorted by id.

    The owner's row (DRIVER, or WORKER for objects a task made) says why the object lives:
    USED_BY_PENDING_TASK (an argument, at any depth, of a task or call not finished),
    LOCAL_REFERENCE (a Python reference outside simray's own bookkeeping),
    CAPTURED_IN_OBJECT (only inside another live object's value); an object held only by
    simray itself gets no row, as Ray drops entries with no reference. A running task or call
    holding a ref argument adds a WORKER row: PINNED_IN_MEMORY for a top-level argument,
    LOCAL_REFERENCE for one nested in a value. An actor whose handle (or a ref rebuilt from the
    handle's id) the program holds gives one ACTOR_HANDLE row.
    """
    import gc
    import sys

    from simray._actor import ActorHandle
    from simray._generator import Stream
    from simray._sim.objects import Packed, SimRef

    refs: list[Any] = []
    units: list[Any] = []
    packs: list[Any] = []
    streams: list[Any] = []
    handles: dict[int, Any] = {}
    for obj in gc.get_objects():
        kind = type(obj)
        if kind is SimRef:
            if getattr(obj, "epoch", None) == backend.epoch and getattr(obj, "_id", 0):
                refs.append(obj)
        elif kind is Task or kind is ActorCall:
            if _built(obj):
                units.append(obj)
        elif kind is Packed:
            packs.append(obj)
        elif kind is Stream:
            streams.append(obj)
        elif isinstance(obj, ActorHandle):
            actor = obj._actor
            handles.setdefault(id(actor), actor)
    internal: dict[int, int] = {}  # id(ref) -> references simray itself holds

    def count(container: Any) -> None:
        if container is None:
            return
        for item in container.values() if type(container) is dict else container:
            if type(item) is SimRef:
                internal[id(item)] = internal.get(id(item), 0) + 1

    table = backend.task_table
    pending_args: set[int] = set()
    running: list[tuple[Any, list[Any], list[Any]]] = []
    for unit in units:
        count(unit.returns)
        count(unit.args)
        count(unit.kwargs)
        is_task = type(unit) is Task
        done = unit.state == FINISHED if is_task else unit.state == "finished"
        if done or unit.args is None:
            continue
        if table.get(unit.task_id if is_task else unit.call_id) is not unit:
            continue  # another session's
        values = list(unit.args) + list((unit.kwargs or {}).values())
        top = [v for v in values if type(v) is SimRef]
        nested = [r for v in values if type(v) is Packed for r in v.refs if type(r) is SimRef]
        pending_args.update(id(r) for r in top + nested)
        if (unit.state == RUNNING if is_task else unit.state == "running") and (top or nested):
            running.append((unit, top, nested))
    captured: set[int] = set()
    for packed in packs:
        count(packed.refs)
        captured.update(id(r) for r in packed.refs if type(r) is SimRef)
    for stream in streams:
        count(stream.items)
    # An actor's creation ref (the actor holds it) has the id of its handle: a program that
    # rebuilt it with `ObjectRef(binary)` holds the handle for Ray, which lists ACTOR_HANDLE.
    creations: dict[int, Any] = {}
    for actor in backend.actors.all:
        if actor.creation is not None:
            count((actor.creation,))
            creations[id(actor.creation)] = actor
    for pg in backend.pgs.all:
        ready = getattr(pg, "ready_ref", None)
        if ready is not None:
            internal[id(ready)] = internal.get(id(ready), 0) + 1
    head = backend.scheduler.all_nodes[0]
    rows = []
    for ref in refs:
        # getrefcount's argument, `refs` and the loop variable are ours too.
        outside = sys.getrefcount(ref) - 3 - internal.get(id(ref), 0)
        if id(ref) in pending_args:
            reference = "USED_BY_PENDING_TASK"
        elif outside > 0:
            reference = "LOCAL_REFERENCE"
        elif id(ref) in captured:
            reference = "CAPTURED_IN_OBJECT"
        else:
            continue
        if id(ref) in creations:
            actor = creations[id(ref)]
            handles.setdefault(id(actor), actor)
            continue
        status, attempt = _producer_status(ref)
        owner = ref.owner
        rows.append(
            object_row(ref.hex(), _object_size(ref), status, attempt, reference, "disabled",
                       "DRIVER" if owner is _NIL_OWNER else "WORKER", _PID,
                       (owner if owner is not _NIL_OWNER else head).ip)
        )  # fmt: skip
    for unit, top, nested in running:
        site = _call_site_of(unit)
        for refs_of, reference in ((top, "PINNED_IN_MEMORY"), (nested, "LOCAL_REFERENCE")):
            for ref in dict.fromkeys(refs_of):
                rows.append(
                    object_row(ref.hex(), _object_size(ref), "NIL", 1, reference, site, "WORKER",
                               _PID, unit.node.ip if unit.node is not None else head.ip)
                )  # fmt: skip
    ours = {id(actor) for actor in backend.actors.all}
    for actor in handles.values():
        if id(actor) not in ours:
            continue  # a handle kept from an earlier session
        rows.append(actor_handle_row(actor, _PID, head.ip))
    rows.sort(key=lambda row: row["object_id"])  # stable: an owner's row before workers'
    return rows
