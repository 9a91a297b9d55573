"""What `ray.util.state` reports on `local`: rows with the fields and state values of the sim's
(`simray._sim.state`), from what the driver holds: its task table, object table, actors,
placement groups, nodes and worker processes, read under the driver's lock.

The task table is bounded as the sim's is (and Ray's GCS): at most
`RAY_task_events_max_num_task_in_gcs` tasks (default 100,000). Past that it drops the oldest
finished task, else the oldest actor call, else the oldest task of any state. A task that ended is kept as a small record
(`Ended`), not with its arguments or values.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from typing import Any

from simray._local.objects import FAILED, PENDING, LocalRef
from simray._local.tasks import QUEUED, RUNNING, WAITING_DEPS, LocalTask
from simray._object_ref import ObjectRef
from simray._ray_ids import JOB_ID_HEX
from simray._sim import state as sim_state
from simray._sim.state import (
    DRIVER_TASK_ID,
    actor_handle_id,
    actor_handle_row,
    actor_row,
    call_site,
    detail_columns,
    error_type_of,
    object_row,
    placement_group_hex,
)

_TASK_STATES = {
    WAITING_DEPS: "PENDING_ARGS_AVAIL",
    QUEUED: "PENDING_NODE_ASSIGNMENT",
    RUNNING: "RUNNING",
}
_ACTOR_STATES = {
    "pending creation": "PENDING_CREATION",
    "alive": "ALIVE",
    "exiting": "ALIVE",
    "restarting": "RESTARTING",
    "dead": "DEAD",
}
_FIELDS = (
    "task_id", "attempt", "kind", "name", "func_name", "actor_hex", "parent_hex", "node", "pid",
    "raw", "demand", "pg_hex", "created_at", "started_at", "ended_at",
)  # fmt: skip


def worker_id(pid: int) -> str:
    """A local worker's id, as its runtime context reports it: its pid in 56 hex digits."""
    return f"{pid:056x}"


class Ended:
    """What the state API keeps of a task or actor call that ended."""

    __slots__ = (*_FIELDS, "error")

    def __init__(self, unit: Any, error: BaseException | None):
        for name, value in zip(_FIELDS, _fields(unit), strict=True):
            setattr(self, name, value)
        self.error = error


def _fields(unit: Any) -> tuple[Any, ...]:
    """The columns a task row is made of, from a live task or call (in `_FIELDS` order)."""
    if type(unit) is LocalTask:
        actor = unit.actor
        proc = unit.proc
        if actor is not None:
            kind, name = "ACTOR_CREATION_TASK", f"{actor.opts.class_name}.__init__"
            shown = f"{actor.opts.name}:{name}" if actor.opts.name else name
            raw, actor_hex = actor.opts.raw, actor.hex()
            proc = actor.proc if actor.creation is unit else None
        else:
            kind, name = "NORMAL_TASK", unit.name
            shown, raw, actor_hex = name, unit.opts.raw, None
        parent = unit.parent
        return (
            unit.hex(), unit.attempt, kind, shown, name, actor_hex,
            parent.hex() if parent is not None else DRIVER_TASK_ID, unit.node,
            proc.pid if proc is not None else unit.pid, raw, unit.demand, placement_group_hex(unit.strategy),
            unit.created_at, unit.started_at, unit.ended_at,
        )  # fmt: skip
    actor = unit.actor
    name = f"{actor.opts.class_name}.{unit.method}"
    started = unit.started_at is not None
    return (
        unit.hex(), unit.attempts - 1, "ACTOR_TASK", name, name, actor.hex(), DRIVER_TASK_ID,
        actor.node if started else None, unit.pid, actor.opts.raw, {},
        placement_group_hex(actor.opts.strategy), unit.created_at, unit.started_at, unit.ended_at,
    )  # fmt: skip


class TaskTable:
    """The session's tasks and actor calls for the state API, at most `cap` of them."""

    def __init__(self, cap: int | float, now: Any):
        self.cap = cap
        self.now = now
        self.rows: dict[int, Any] = {}  # id -> a live task or call, or its Ended record
        self.finished: deque[int] = deque()  # ids that ended without error, oldest first
        self.calls: deque[int] = deque()  # ids of actor calls, oldest first

    def add(self, key: int, unit: Any) -> None:
        unit.created_at = self.now()
        self.rows[key] = unit
        if type(unit) is not LocalTask:
            self.calls.append(key)
            if len(self.calls) > 2 * self.cap:
                self.calls = deque(k for k in self.calls if k in self.rows)
        if len(self.rows) > self.cap:
            self._trim()

    def ended(self, key: int, unit: Any, error: BaseException | None) -> None:
        if unit.ended_at is not None:
            return
        unit.ended_at = self.now()
        if self.rows.get(key) is unit:
            self.rows[key] = Ended(unit, error)
            if error is None:
                self.finished.append(key)
                if len(self.finished) > 2 * self.cap:
                    self.finished = deque(k for k in self.finished if k in self.rows)

    def _trim(self) -> None:
        rows = self.rows
        while len(rows) > self.cap and self.finished:
            rows.pop(self.finished.popleft(), None)
        while len(rows) > self.cap and self.calls:
            rows.pop(self.calls.popleft(), None)
        while len(rows) > self.cap:
            del rows[next(iter(rows))]


def _row(backend: Any, unit: Any, state: str, error: BaseException | None) -> dict[str, Any]:
    (
        task_id, attempt, kind, name, func_name, actor_hex, parent_hex, node, pid, raw, demand,
        pg_hex, _, started, _,
    ) = _fields(unit) if type(unit) is not Ended else (getattr(unit, f) for f in _FIELDS)  # fmt: skip
    creation = kind == "ACTOR_CREATION_TASK"
    running = started is not None and node is not None
    worker = worker_id(pid) if running and pid else None
    row = {
        "task_id": task_id,
        "attempt_number": attempt,
        "name": name,
        "state": state,
        "job_id": JOB_ID_HEX,
        "actor_id": actor_hex,
        "type": kind,
        "func_or_class_name": func_name,
        "parent_task_id": parent_hex,
        # Ray reports an actor's creation task with its pid but no node or worker id.
        "node_id": node.node_id if running and not creation else None,
        "worker_id": worker if not creation else None,
        "worker_pid": pid if running and pid else None,
        "error_type": error_type_of(error),
        "language": "PYTHON",
        "required_resources": {k: v / 10_000 for k, v in demand.items()},
        "placement_group_id": pg_hex,
        "error_message": str(error) if error is not None else None,
    }
    row.update(detail_columns(kind, unit, state, raw or {}, worker, node))
    return row


def _call_state(call: Any) -> str:
    if call.started_at is not None:
        return "RUNNING"
    if any(d.state == PENDING for d in call.deps):
        return "PENDING_ARGS_AVAIL"
    return "PENDING_ACTOR_TASK_ORDERING_OR_CONCURRENCY"


def tasks(backend: Any) -> list[dict[str, Any]]:
    rows = []
    for unit in list(backend.task_table.rows.values()):
        if type(unit) is Ended:
            state = "FAILED" if unit.error is not None else "FINISHED"
            rows.append(_row(backend, unit, state, unit.error))
        elif type(unit) is LocalTask:
            state = _TASK_STATES.get(unit.state, "NIL")
            if state == "RUNNING" and unit.started_at is None:
                state = "PENDING_NODE_ASSIGNMENT"  # placed, its worker process still starting
            rows.append(_row(backend, unit, state, None))
        else:
            rows.append(_row(backend, unit, _call_state(unit), None))
    return rows


def actors(backend: Any) -> list[dict[str, Any]]:
    rows = []
    for actor in list(backend.actors.by_id.values()):
        proc = actor.proc
        pid = proc.pid if proc is not None and proc.pid else None
        rows.append(actor_row(backend, actor, _ACTOR_STATES.get(actor.state, "DEAD"), pid))
    return rows


def nodes(backend: Any) -> list[dict[str, Any]]:
    return sim_state.nodes(backend)  # the same scheduler's nodes


def placement_groups(backend: Any) -> list[dict[str, Any]]:
    return sim_state.placement_groups(backend)  # the same group table


def workers(backend: Any) -> list[dict[str, Any]]:
    """The driver, then every worker process alive (task workers and actors')."""
    head = backend.scheduler.all_nodes[0]
    rows = [_worker(os.getpid(), "DRIVER", head, False)]
    for proc in list(backend.procs.all.values()):
        if proc.pid and proc.state not in ("dead", "starting"):
            rows.append(_worker(proc.pid, "WORKER", proc.node or head, True))
    return rows


def _worker(pid: int, kind: str, node: Any, launched: bool) -> dict[str, Any]:
    never = 2**64 - 1  # a driver was never launched by a raylet (Ray's uint64 max)
    return {
        "worker_id": worker_id(pid),
        "is_alive": True,
        "worker_type": kind,
        "exit_type": None,
        "node_id": node.node_id,
        "ip": node.ip,
        "pid": pid,
        "exit_detail": None,
        "worker_launch_time_ms": 0 if launched else never,
        "worker_launched_time_ms": 0 if launched else never,
        "start_time_ms": 0,
        "end_time_ms": 0,
        "debugger_port": None,
        "num_paused_threads": None,
    }


def jobs(backend: Any) -> list[dict[str, Any]]:
    rows = sim_state.jobs(backend)
    for row in rows:
        row["driver_info"]["pid"] = str(os.getpid())
    return rows


# -- objects ---------------------------------------------------------------------------------------
def _size(entry: Any) -> int:
    """Bytes of the stored value (its pickle and buffers); -1 while it does not exist yet."""
    import pickle

    import cloudpickle

    from simray._local import serialization as ser

    if entry.state == PENDING:
        return -1
    if entry.state == FAILED:
        value: Any = entry.error
    else:
        wire = entry.wire
        if wire[0] != "v":
            return ser.size_of(wire)
        value = wire[1]
        if type(value) in (bytes, str):
            return len(value)
    try:
        return len(cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - a size is best effort
        return -1


def _producer(entry: Any) -> tuple[str, int]:
    """The owner's view of the task making `entry` (Ray's `rpc::TaskStatus`) and its attempt."""
    if entry.state != PENDING:
        return "FINISHED", 1  # Ray reports FINISHED for an error stored as the value, too
    unit = entry.task
    if unit is None:
        return "NIL", 1
    if type(unit) is LocalTask:
        if unit.state == WAITING_DEPS:
            args = [*(unit.args or ()), *(unit.kwargs or {}).values()]
            waits = any(a[0] == "ref" and a[1].state == PENDING for a in args)
            status = "PENDING_ARGS_AVAIL" if waits else "PENDING_NODE_ASSIGNMENT"
            return status, max(unit.attempt, 1)
        if unit.state == QUEUED:
            return "PENDING_NODE_ASSIGNMENT", max(unit.attempt, 1)
        return "SUBMITTED_TO_WORKER", unit.attempt + 1
    if any(d.state == PENDING for d in unit.deps):
        return "PENDING_ARGS_AVAIL", unit.attempts
    return "SUBMITTED_TO_WORKER", unit.attempts


def _call_site(backend: Any, unit: Any) -> str:
    """The call site of a running local task's or call's arguments."""
    if type(unit) is LocalTask:
        fn = backend.function_of(unit.fn_key)
        return call_site(getattr(fn, "__module__", None), getattr(fn, "__qualname__", unit.name))
    module = getattr(unit.actor.cls, "__module__", None)
    return call_site(module, f"{unit.actor.opts.class_name}.{unit.method}")


def objects(backend: Any) -> list[dict[str, Any]]:
    """Ray's object rows, by the sim's rules (see `simray._sim.state.objects`): the owner's row
    says why the object lives (USED_BY_PENDING_TASK, LOCAL_REFERENCE: a ref the program holds in
    the driver, CAPTURED_IN_OBJECT); a running task or call holding a ref argument adds a WORKER
    row (PINNED_IN_MEMORY at the top level, LOCAL_REFERENCE nested); an actor whose handle (or a
    ref rebuilt from the handle's id) the driver holds gives one ACTOR_HANDLE row."""
    from simray._actor import ActorHandle
    from simray._local.actors import Call
    from simray._local.streams import LocalObjectRefGenerator

    units: list[Any] = []
    generators: list[Any] = []
    handles: dict[int, Any] = {}
    rebuilt: list[Any] = []
    for obj in gc.get_objects():
        kind = type(obj)
        if kind is LocalTask or kind is Call:
            units.append(obj)
        elif isinstance(obj, ActorHandle):
            handles.setdefault(id(obj._actor), obj._actor)
        elif kind is LocalObjectRefGenerator:
            generators.append(obj)
        elif kind is ObjectRef and obj._held is None:
            rebuilt.append(obj)  # `ObjectRef(binary)` of no object: maybe an actor handle's id
    internal: dict[int, int] = {}  # id(entry) -> driver refs simray itself holds
    for pg in backend.pgs.all:
        if pg.ready_ref is not None:
            internal[id(pg.ready_ref.entry)] = internal.get(id(pg.ready_ref.entry), 0) + 1
    for stream in backend.streams.values():
        for ref in stream.items:
            internal[id(ref.entry)] = internal.get(id(ref.entry), 0) + 1
    for generator in generators:
        ref = generator._generator_ref
        if type(ref) is LocalRef:
            internal[id(ref.entry)] = internal.get(id(ref.entry), 0) + 1
    pending: set[int] = set()
    running: list[tuple[Any, Any, list[Any], list[Any]]] = []
    for unit in units:
        is_task = type(unit) is LocalTask
        if unit.args is None or (unit.state == "finished" if is_task else unit.finished):
            continue
        top = [a[1] for a in [*unit.args, *unit.kwargs.values()] if a[0] == "ref"]
        nested = unit.nested
        pending.update(id(e) for e in top + nested)
        proc = unit.proc if is_task else (unit.actor.proc if unit.started_at else None)
        if proc is not None and (top or nested):
            running.append((unit, proc, top, nested))
    entries = list(backend.table.entries.values())
    captured = {id(e) for entry in entries if entry.inner for e in entry.inner}
    head = backend.scheduler.all_nodes[0]
    driver = os.getpid()
    rows = []
    for entry in entries:
        if id(entry) in pending:
            reference = "USED_BY_PENDING_TASK"
        elif entry.nrefs - internal.get(id(entry), 0) > 0:
            reference = "LOCAL_REFERENCE"
        elif id(entry) in captured:
            reference = "CAPTURED_IN_OBJECT"
        else:
            continue
        status, attempt = _producer(entry)
        owner = entry.owner
        rows.append(
            object_row(
                f"{entry.oid:056x}", _size(entry), status, attempt, reference, "disabled",
                "DRIVER" if owner is None else "WORKER", driver,
                (owner if owner is not None else head).ip,
            )
        )  # fmt: skip
    for unit, proc, top, nested in running:
        site = _call_site(backend, unit)
        node = proc.node or head
        for group, reference in ((top, "PINNED_IN_MEMORY"), (nested, "LOCAL_REFERENCE")):
            for entry in dict.fromkeys(group):
                rows.append(
                    object_row(f"{entry.oid:056x}", _size(entry), "NIL", 1, reference, site, "WORKER", proc.pid,
                            node.ip)
                )  # fmt: skip
    ours = backend.actors.by_id
    if rebuilt:  # refs rebuilt from an actor handle's id hold the handle, as in Ray
        by_handle_id = {int(actor_handle_id(a), 16): a for a in ours.values()}
        for ref in rebuilt:
            actor = by_handle_id.get(ref._id)
            if actor is not None:
                handles.setdefault(id(actor), actor)
    for actor in handles.values():
        if ours.get(actor.actor_id) is not actor:
            continue  # a handle kept from an earlier session
        rows.append(actor_handle_row(actor, driver, head.ip))
    rows.sort(key=lambda row: row["object_id"])  # stable: an owner's row before workers'
    return rows
