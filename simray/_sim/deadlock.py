"""Explain why nothing can run again: the wait-for chain from the driver down.

Called when the kernel has no event left while the driver waits without a timeout. It follows
what each unit waits for (objects, a file lock), who makes those objects, and why queued work
cannot start (infeasible, or resources held by named tasks), and says it in plain lines.
"""

from __future__ import annotations

from typing import Any

from simray._model.resources import UNIT, format_demand
from simray._sim.tasks import QUEUED, RUNNING, WAITING_DEPS, Task


def explain(backend: Any) -> str:
    kernel = backend.kernel
    lines = [
        f"nothing can ever run again at virtual time {kernel.now:g}s while the driver waits "
        "without a timeout (real Ray would hang here). Wait-for chain:"
    ]
    seen: set[int] = set()
    _describe_unit(backend, kernel.driver, "driver", lines, seen, depth=1)
    queued = [t for t in backend.scheduler.queued() if t.task_id not in seen]
    if queued:
        lines.append("Other queued tasks:")
        for task in queued:
            _describe_task(backend, task, lines, seen, depth=1)
    for pg in backend.pgs.pending:
        why = "can never be placed" if backend.pgs.infeasible(pg) else "waits for resources"
        lines.append(f"{pg.label()} is pending: it {why}")
    lines.append(
        "Fix: add the missing resources, lower the demand, or wait with a timeout "
        "(get(..., timeout=...) raises GetTimeoutError at the virtual deadline)."
    )
    return "\n".join(lines)


def _describe_unit(
    backend: Any, unit: Any, who: str, lines: list[str], seen: set[int], depth: int
) -> None:
    pad = "  " * depth
    waiting = unit.blocked_on
    if waiting is None:
        lines.append(f"{pad}{who} is not waiting")
        return
    kind = waiting[0]  # a sleeping unit's is its timer (`Kernel.sleep_until`): (seq, None, unit)
    if type(kind) is int:
        kind = "sleep"
    if kind == "objects":
        refs = waiting[1]
        pending = [r for r in refs if r.state == 0]
        lines.append(f"{pad}{who} waits for {len(pending)} object(s):")
        for ref in pending[:8]:
            task = ref.task
            if task is None:
                lines.append(f"{pad}  {ref!r}, which no task will produce")
            else:
                lines.append(f"{pad}  {ref!r}, made by {task.label()}")
                _describe_task(backend, task, lines, seen, depth + 2)
        if len(pending) > 8:
            lines.append(f"{pad}  ... and {len(pending) - 8} more")
    elif kind == "lock":
        state = waiting[1]
        holder = state.holder
        holder_name = (
            "the driver"
            if holder is backend.kernel.driver
            else (holder.label() if isinstance(holder, Task) else repr(holder))
        )
        lines.append(f"{pad}{who} waits for file lock {state.path} held by {holder_name}")
        if isinstance(holder, Task):
            _describe_task(backend, holder, lines, seen, depth + 1)
    else:
        lines.append(f"{pad}{who} waits on {kind}")


def _describe_call(backend: Any, call: Any, lines: list[str], seen: set[int], depth: int) -> None:
    pad = "  " * depth
    actor = call.actor
    if call.state == "running":
        unit = actor.loop_unit if actor.loop_unit is not None else call
        lines.append(f"{pad}{call.label()} is running")
        _describe_unit(backend, unit, call.label(), lines, seen, depth + 1)
        return
    if actor.state != "alive":
        lines.append(f"{pad}{call.label()} waits: the actor is {actor.state}")
        if actor.creation is not None and actor.creation.task is not None:
            _describe_task(backend, actor.creation.task, lines, seen, depth + 1)
        return
    busy = [c for c in actor.running]
    lines.append(
        f"{pad}{call.label()} waits in the actor's mailbox: max_concurrency="
        f"{actor.opts.max_concurrency} and {len(busy)} call(s) run"
    )
    for other in busy:
        _describe_task(backend, other, lines, seen, depth + 1)


def _describe_task(backend: Any, task: Any, lines: list[str], seen: set[int], depth: int) -> None:
    pad = "  " * depth
    key = getattr(task, "task_id", None) or getattr(task, "call_id", None)
    if key in seen:
        lines.append(f"{pad}{task.label()}: see above (a cycle)")
        return
    seen.add(key)
    if not isinstance(task, Task):
        _describe_call(backend, task, lines, seen, depth)
        return
    if task.state == RUNNING:
        held = dict(task.demand)
        if task.cpu_released:
            held.pop("CPU", None)
        gpus = f" GPU ids {task.gpu_ids()}" if task.gpu_shares else ""
        lines.append(
            f"{pad}{task.label()} runs on node {task.node.index} holding {format_demand(held)}{gpus}"
        )
        _describe_unit(backend, task, task.label(), lines, seen, depth + 1)
    elif task.state == QUEUED:
        reason = backend.scheduler.infeasible_reason(task.demand, task)
        if reason is not None:
            lines.append(
                f"{pad}{task.label()} is queued and infeasible: it needs "
                f"{format_demand(task.demand)} and no node can ever provide it ({reason})"
            )
            return
        lines.append(f"{pad}{task.label()} is queued: it needs {format_demand(task.demand)}")
        for node in backend.scheduler.nodes:
            if not node.resources.feasible(task.demand):
                continue
            short = [
                f"{k} {node.resources.available.get(k, 0) / UNIT:g} of {node.resources.total.get(k, 0) / UNIT:g} free"
                for k, v in task.demand.items()
                if node.resources.available.get(k, 0) < v
                or (k == "GPU" and not node.resources.fits({k: v}))
            ]
            holders = [
                t.label()
                for t in backend.running.values()
                if t.node is node
                and any(k in t.demand and not (k == "CPU" and t.cpu_released) for k in task.demand)
            ] + [
                f"{a.label()} (for its lifetime)"
                for a in backend.actors.all
                if a.node is node and any(k in a.holds for k in task.demand)
            ]
            lines.append(
                f"{pad}  node {node.index} has {', '.join(short) or 'too little free'}"
                + (f", held by {', '.join(holders)}" if holders else "")
            )
            for holder in backend.running.values():
                if holder.label() in holders and holder.task_id not in seen:
                    _describe_task(backend, holder, lines, seen, depth + 2)
    elif task.state == WAITING_DEPS:
        lines.append(f"{pad}{task.label()} waits for its arguments")
        for arg in list(task.args) + list((task.kwargs or {}).values()):
            if getattr(arg, "state", None) == 0 and arg.task is not None:
                _describe_task(backend, arg.task, lines, seen, depth + 1)
