"""The trace of a sim run: one JSON line per scheduling event, with its virtual time.

Records are kept as tuples while the run goes (cheap on the hot path) and formatted once at the
end; every field is derived from the program and the seed, so the same seed gives the same bytes.

Formats: 1, the first; 2 starts with a `latency` record when the latency model is on; 3 numbers
placement groups on their own (`pg=1, 2, ...`) and names a lost object by its ObjectID hex.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO


class Trace:
    """Collects events; `write` renders them as JSON lines."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[tuple[float, str, dict[str, Any]]] = []

    def add(self, t: float, event: str, **fields: Any) -> None:
        self.records.append((t, event, fields))

    def lines(self) -> list[str]:
        import json  # here, once per written trace: a session without one never loads it

        return [
            json.dumps({"t": round(t, 9), "event": event, **fields}, sort_keys=False)
            for t, event, fields in self.records
        ]

    def write(self, out: TextIO) -> None:
        for line in self.lines():
            out.write(line + "\n")


class TraceRecorder:
    """The session's one place to record trace events: stamps them with the clock's time, and
    costs one attribute test when tracing is off (`trace` is None)."""

    __slots__ = ("trace", "clock")

    def __init__(self, trace: Trace | None, clock: Callable[[], float]):
        self.trace = trace
        self.clock = clock

    def record(self, event: str, **fields: Any) -> None:
        if self.trace is not None:
            self.trace.add(self.clock(), event, **fields)
