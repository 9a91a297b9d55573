"""The sim backend's own controls: the virtual clock and the trace of the running session."""

from __future__ import annotations

from simray import _session


def _sim_session():  # type: ignore[no-untyped-def]
    session = _session.active()
    if session is None or session.name != "sim":
        raise RuntimeError(
            "no sim session is running: call simray.init() (backend 'sim') before using simray.sim"
        )
    return session


def now() -> float:
    """Virtual seconds since `init` (0.0 at init)."""
    try:
        return _session._active.kernel.now
    except AttributeError:
        return _sim_session().kernel.now


def trace_lines() -> list[str]:
    """The trace so far as JSON lines (the session must have been started with a trace)."""
    session = _sim_session()
    if session.trace is None:
        raise RuntimeError(
            "this sim session records no trace: pass init(trace=PATH) or set SIMRAY_TRACE"
        )
    return session.trace.lines()


def _at(at: float | None, action) -> None:  # type: ignore[no-untyped-def]
    session = _sim_session()
    if at is None:
        action()
    elif at < session.kernel.now:
        raise ValueError(
            f"cannot schedule a fault in the past: at={at} < now={session.kernel.now}; pass a "
            "virtual time >= simray.sim.now(), or at=None for now"
        )
    else:
        session.faults.at(at, action)


def kill_node(node_id: str, *, at: float | None = None) -> None:
    """Kill a node now (or at virtual time `at`): its tasks retry or fail with NodeDiedError,
    its actors restart or die, objects only it held are rebuilt or lost."""
    session = _sim_session()
    node = session.node_by_id(node_id)
    if node.is_head:
        raise ValueError(
            "the head node cannot be killed: the driver runs there (Ray ends the whole cluster); "
            "kill a worker node added with simray.cluster.Cluster.add_node"
        )
    _at(at, lambda: session.faults.kill_node(node))


def crash_worker(ref: object, *, at: float | None = None) -> None:
    """Crash the worker running the task that makes `ref` (now or at `at`), as a worker process
    dying under it: retried up to `max_retries`, then WorkerCrashedError."""
    session = _sim_session()
    task = getattr(ref, "task", None)
    if task is None:
        raise ValueError(
            f"crash_worker() needs the ObjectRef of a task that has not ended, got {ref!r}"
        )

    def crash() -> None:
        if type(task).__name__ == "ActorCall":
            session.faults.crash_actor_call(task)
        else:
            session.faults.crash_task(task, "crashed by simray.sim.crash_worker")

    _at(at, crash)


def kill_actor_process(actor: object, *, at: float | None = None) -> None:
    """Kill an actor's worker process (now or at `at`): it restarts while `max_restarts` lasts
    (in-flight calls retried while `max_task_retries` lasts), else it dies."""
    session = _sim_session()
    record = getattr(actor, "_actor", None)
    if record is None:
        raise TypeError(f"kill_actor_process() needs an ActorHandle, got {actor!r}")
    _at(
        at,
        lambda: session.faults.actor_process_died(
            record, "killed by simray.sim.kill_actor_process"
        ),
    )


def on_task_start(name: str, fault: str, *, times: int = 1) -> None:
    """When a task of function `name` starts (the first `times` starts), apply `fault` to it:
    "crash_worker" crashes its worker, "kill_node" kills the node it runs on."""
    session = _sim_session()
    if fault not in ("crash_worker", "kill_node"):
        raise ValueError(f"fault must be 'crash_worker' or 'kill_node', got {fault!r}")
    left = [times]

    def trigger(task) -> None:  # type: ignore[no-untyped-def]
        if left[0] <= 0:
            return
        left[0] -= 1
        if left[0] == 0:
            session.faults.on_start[name].remove(trigger)
            if not session.faults.on_start[name]:
                del session.faults.on_start[name]
        if fault == "crash_worker":
            session.faults.crash_task(task, f"crashed when {name} started")
        elif task.node is not None and not task.node.is_head:
            session.faults.kill_node(task.node)

    session.faults.on_start.setdefault(name, []).append(trigger)


__all__ = ["crash_worker", "kill_actor_process", "kill_node", "now", "on_task_start", "trace_lines"]
