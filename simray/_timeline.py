"""simray's JSON-lines trace as Chrome trace events (open in Perfetto or chrome://tracing).

One process per node, one thread per worker slot of that node: a task is a slice on the lowest
worker slot free when it starts (as a Ray worker process is reused), an actor gets a thread of
its own, the driver's thread 0 of the head. Blocked intervals (a task waiting in `get`/`wait`
with its CPU given back) are slices nested in the task's; node lifetimes are slices on each
node's thread "node"; faults (crashes, node deaths, lost objects, retries, cancels) are instant
events. Times are virtual microseconds. The conversion is a pure function of the trace, so the
same trace gives the same timeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

_NODE_TID = 0  # each node's lifetime thread
_FAULTS = {
    "worker_crashed",
    "node_died",
    "object_lost",
    "actor_process_died",
    "actor_died",
    "actor_restarting",
    "retry",
    "cancel",
}


def _us(t: float) -> float:
    return round(t * 1_000_000, 3)


def _records(trace: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out = []
    for number, item in enumerate(trace, 1):
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                item = json.loads(item)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"trace line {number} is not JSON ({e.msg}): {item[:80]!r}; a simray trace "
                    "has one JSON object per line (simray exec --trace FILE writes one)"
                ) from None
        if not isinstance(item, Mapping) or "t" not in item or "event" not in item:
            raise ValueError(
                f"trace line {number} is not a simray trace event (needs 't' and 'event'): "
                f"{str(item)[:80]!r}"
            )
        out.append(item)
    return out


class _Builder:
    """Walks the trace once, keeping open slices and worker-slot occupancy per node."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.names: dict[int, str] = {}  # task/call id -> function or method name
        self.actor_of_call: dict[int, int] = {}
        self.actor_node: dict[int, int] = {}
        self.open: dict[int, dict[str, Any]] = {}  # task id -> its open slice
        self.blocked: dict[int, dict[str, Any]] = {}
        self.busy: dict[int, set[int]] = {}  # node -> worker slots in use
        self.node_open: dict[int, dict[str, Any]] = {}
        self.threads: set[tuple[int, int]] = set()
        self.thread_names: dict[tuple[int, int], str] = {}
        self.end = 0.0

    def thread(self, pid: int, tid: int, name: str) -> None:
        if (pid, tid) not in self.thread_names:
            self.thread_names[(pid, tid)] = name

    def slot(self, node: int) -> int:
        busy = self.busy.setdefault(node, set())
        tid = 1
        while tid in busy:
            tid += 1
        busy.add(tid)
        self.thread(node, tid, f"worker {tid}")
        return tid

    def close(self, task: int, t: float, **args: Any) -> None:
        blocked = self.blocked.pop(task, None)
        if blocked is not None:
            blocked["dur"] = _us(t) - blocked["ts"]
        ev = self.open.pop(task, None)
        if ev is None:
            return
        ev["dur"] = _us(t) - ev["ts"]
        ev["args"].update(args)
        if ev["tid"] < 1_000_000:  # a task slot, not an actor's own thread
            self.busy.get(ev["pid"], set()).discard(ev["tid"])

    def instant(self, name: str, t: float, pid: int, tid: int, args: dict[str, Any]) -> None:
        self.events.append(
            {
                "name": name,
                "cat": "fault",
                "ph": "i",
                "s": "t",
                "ts": _us(t),
                "pid": pid,
                "tid": tid,
                "args": args,
            }
        )

    def add(self, rec: Mapping[str, Any]) -> None:
        t = float(rec["t"])
        self.end = max(self.end, t)
        event = rec["event"]
        fields = {k: v for k, v in rec.items() if k not in ("t", "event")}
        if event == "node_added":
            node = rec["node"]
            ev = {
                "name": "node alive",
                "cat": "node",
                "ph": "X",
                "ts": _us(t),
                "pid": node,
                "tid": _NODE_TID,
                "args": {"resources": rec.get("resources", {})},
            }
            self.node_open[node] = ev
            self.events.append(ev)
            self.thread(node, _NODE_TID, "node")
        elif event == "submit":
            self.names[rec["task"]] = rec.get("name", "?")
            if "actor" in rec:
                self.actor_of_call[rec["task"]] = rec["actor"]
        elif event == "actor_alive":
            self.actor_node[rec["actor"]] = rec["node"]
        elif event == "start":
            task = rec["task"]
            if "actor" in rec:
                actor = rec["actor"]
                pid = self.actor_node.get(actor, 0)
                tid = 1_000_000 + actor
                self.thread(pid, tid, f"actor {actor}")
            else:
                pid = rec["node"]
                tid = self.slot(pid)
            ev = {
                "name": self.names.get(task, f"task {task}"),
                "cat": "task",
                "ph": "X",
                "ts": _us(t),
                "pid": pid,
                "tid": tid,
                "args": {
                    "task": task,
                    **{k: v for k, v in fields.items() if k not in ("task", "node")},
                },
            }
            self.open[task] = ev
            self.events.append(ev)
        elif event == "finish":
            self.close(rec["task"], t, ok=rec.get("ok", True))
        elif event == "block":
            parent = self.open.get(rec["task"])
            if parent is not None:
                ev = {
                    "name": "blocked",
                    "cat": "blocked",
                    "ph": "X",
                    "ts": _us(t),
                    "pid": parent["pid"],
                    "tid": parent["tid"],
                    "args": {"task": rec["task"]},
                }
                self.blocked[rec["task"]] = ev
                self.events.append(ev)
        elif event == "unblock":
            ev = self.blocked.pop(rec["task"], None)
            if ev is not None:
                ev["dur"] = _us(t) - ev["ts"]
        elif event in _FAULTS:
            task = rec.get("task")
            where = self.open.get(task) if task is not None else None
            if event in ("worker_crashed", "retry", "cancel"):
                self.close(task, t, ok=False, ended_by=event)
            if where is not None:
                pid, tid = where["pid"], where["tid"]
            elif "node" in rec:
                pid, tid = rec["node"], _NODE_TID
            elif "actor" in rec:
                pid = self.actor_node.get(rec["actor"], 0)
                tid = 1_000_000 + rec["actor"]
            else:
                pid, tid = 0, _NODE_TID
            self.instant(event, t, pid, tid, fields)
            if event == "node_died":
                node_ev = self.node_open.pop(rec["node"], None)
                if node_ev is not None:
                    node_ev["dur"] = _us(t) - node_ev["ts"]
                for task_id in [k for k, v in self.open.items() if v["pid"] == rec["node"]]:
                    self.close(task_id, t, ok=False, ended_by="node_died")
        else:  # placement groups and anything newer: an instant on the head, kept visible
            self.events.append(
                {
                    "name": event,
                    "cat": "cluster",
                    "ph": "i",
                    "s": "p",
                    "ts": _us(t),
                    "pid": 0,
                    "tid": _NODE_TID,
                    "args": fields,
                }
            )

    def finish(self) -> list[dict[str, Any]]:
        end = self.end
        for task in list(self.open):
            self.close(task, end, unfinished=True)
        for ev in self.blocked.values():
            ev["dur"] = _us(end) - ev["ts"]
        for ev in self.node_open.values():
            ev["dur"] = _us(end) - ev["ts"]
        meta: list[dict[str, Any]] = []
        for pid in sorted({pid for pid, _ in self.thread_names}):
            label = "node 0 (head)" if pid == 0 else f"node {pid}"
            meta.append(
                {"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": label}}
            )
            meta.append(
                {
                    "name": "process_sort_index",
                    "ph": "M",
                    "pid": pid,
                    "tid": 0,
                    "args": {"sort_index": pid},
                }
            )
        for (pid, tid), name in sorted(self.thread_names.items()):
            meta.append(
                {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
            )
        return meta + self.events


def chrome_trace_events(trace: Iterable[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Convert simray trace records (JSON lines or parsed dicts) to Chrome trace events."""
    builder = _Builder()
    for rec in _records(trace):
        builder.add(rec)
    return builder.finish()


def write_chrome_trace(events: list[dict[str, Any]], path: str) -> None:
    """Write events as a Chrome trace JSON array (the format `ray.timeline(filename)` writes)."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(events, out)


def timeline_main(trace_path: str, out_path: str) -> int:
    """`simray timeline TRACE -o OUT`: convert a trace file; return the exit code."""
    import sys

    try:
        with open(trace_path, encoding="utf-8") as f:
            events = chrome_trace_events(f)
    except FileNotFoundError:
        print(f"simray timeline: no such trace file: {trace_path}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"simray timeline: {trace_path}: {e}", file=sys.stderr)
        return 2
    write_chrome_trace(events, out_path)
    slices = sum(1 for e in events if e.get("cat") == "task")
    print(f"wrote {len(events)} events ({slices} task slices) to {out_path}")
    return 0


__all__ = ["chrome_trace_events", "timeline_main", "write_chrome_trace"]
