"""What tasks and actors print, on sim: the driver's stdout and stderr show it as Ray's driver
does, each whole line prefixed `(name pid=N)` (`simray._output`) with the worker's fake pid.

While a session runs, `sys.stdout` and `sys.stderr` are streams that look at who writes: the
driver (and any thread but the simulator's) writes through unchanged; a task or actor's text is
kept per worker process until a newline, then written prefixed to the stream the driver had.
`init(log_to_driver=False)` drops it, as Ray leaves it in the worker's log file. Nothing is done
on the simulator's hot paths: the cost is paid by writes only.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from simray._output import Deduplicator, actor_label, format_lines, task_label
from simray._sim.tasks import Task


class WorkerOutput:
    """The session's stdout/stderr streams and the partial lines of each worker."""

    def __init__(self, backend: Any, log_to_driver: bool):
        self.backend = backend
        self.kernel = backend.kernel
        self.log_to_driver = log_to_driver
        self.partial: dict[tuple[int, int], str] = {}  # (pid, fd) -> text after the last newline
        self.names: dict[tuple[int, int], tuple[str, str | None]] = {}  # its prefix's name, ip
        # Ray's deduplication of repeated lines across workers, per stream, in virtual time.
        kernel = self.kernel
        self.dedup = (Deduplicator(lambda: kernel.now), Deduplicator(lambda: kernel.now))
        self._saved: tuple[Any, Any] | None = None
        self._streams: tuple[_Stream, _Stream] | None = None

    def install(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        sim_thread = threading.get_ident()
        self._streams = (
            _Stream(self, 1, sys.stdout, sim_thread),
            _Stream(self, 2, sys.stderr, sim_thread),
        )
        sys.stdout, sys.stderr = self._streams

    def uninstall(self) -> None:
        """Write what workers left without a newline, and give the driver its streams back."""
        if self._saved is None or self._streams is None:
            return
        for (pid, fd), text in list(self.partial.items()):
            if text:
                self._emit(fd, [text], *self.names[(pid, fd)], pid)
        self.partial.clear()
        out, err = self._streams
        if sys.stdout is out:
            sys.stdout = self._saved[0]
        if sys.stderr is err:
            sys.stderr = self._saved[1]
        self._saved = self._streams = None

    def write(self, unit: Any, fd: int, text: str) -> None:
        """`unit` (a task, actor call or actor loop) wrote `text` on its fd 1 or 2."""
        pid = self.backend.faults.pids.of(unit)
        key = (pid, fd)
        text = self.partial.pop(key, "") + text
        lines = text.split("\n")
        rest = lines.pop()
        if rest:
            self.partial[key] = rest
        name, ip = self.names[key] = self._who(unit)
        if lines:
            self._emit(fd, lines, name, ip, pid)

    def _emit(self, fd: int, lines: list[str], name: str, ip: str | None, pid: int) -> None:
        if not self.log_to_driver or self._streams is None:
            return
        target = self._streams[fd - 1].target
        text = "".join(
            format_lines(batch, *source)
            for source, batch in self.dedup[fd - 1].batches((name, pid, ip), lines)
            if batch
        )
        try:
            target.write(text)
        except Exception:  # noqa: BLE001 - the driver's stream may be closed at exit
            pass

    def _who(self, unit: Any) -> tuple[str, str | None]:
        """The name and ip (None on the driver's node) a unit's lines carry."""
        actor = self.backend.faults.pids.actor_of(unit)
        if actor is not None:
            instance = actor.instance
            cls = type(instance) if instance is not None else actor.cls
            name = actor_label(instance, cls, instance is not None)
            node = actor.node
        else:
            name = task_label(unit.name) if type(unit) is Task else ""
            node = getattr(unit, "node", None)
        ip = node.ip if node is not None and not node.is_head else None
        return name, ip


class _Stream:
    """sys.stdout or sys.stderr during a session (everything but `write` is the driver's)."""

    def __init__(self, owner: WorkerOutput, fd: int, target: Any, sim_thread: int):
        self._owner = owner
        self._fd = fd
        self.target = target
        self._sim_thread = sim_thread
        self._kernel = owner.kernel

    def write(self, text: str) -> int:
        kernel = self._kernel
        unit = kernel.current
        if unit is None or unit is kernel.driver or threading.get_ident() != self._sim_thread:
            return self.target.write(text)
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._owner.write(unit, self._fd, text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)
