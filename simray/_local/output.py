"""A worker's output, sent to the driver in whole lines with the name Ray's prefix shows:
Python's `sys.stdout`/`sys.stderr` (`Output`), and what bypasses them, written to fds 1 and 2 by
C code or child processes (`capture_fds`: the fds become pipes that a thread reads). The
driver's I/O thread writes the lines to its own stdout or stderr, prefixed `(name pid=N)` as
Ray's driver prints them (`simray._output`, shared with sim), unless `log_to_driver=False`.
"""

from __future__ import annotations

import os
import select
import threading
from typing import Any


def _send(worker: Any, fd: int, lines: str) -> None:
    worker.send(("out", fd, worker.label, lines))


class Output:
    """sys.stdout/stderr of a worker: whole lines go to the driver, which prefixes them."""

    def __init__(self, worker: Any, fd: int):
        self.worker = worker
        self.fd = fd
        self.buf = ""
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.buf += text
            if "\n" in self.buf:
                lines, _, self.buf = self.buf.rpartition("\n")
                self._send(lines)
        return len(text)

    def flush(self) -> None:
        with self.lock:
            if self.buf:
                self._send(self.buf)
                self.buf = ""

    def _send(self, lines: str) -> None:
        _send(self.worker, self.fd, lines)

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd

    @property
    def encoding(self) -> str:
        return "utf-8"


class _FdPipe:
    """fd 1 or 2 of this process made the write end of a pipe; its lines go to the driver."""

    def __init__(self, worker: Any, fd: int):
        read, write = os.pipe()
        os.dup2(write, fd)
        os.close(write)
        os.set_blocking(read, False)
        self.read = read
        self.worker = worker
        self.fd = fd
        self.buf = b""
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                select.select([self.read], [], [])
            except OSError:
                return
            self.drain(False)

    def drain(self, final: bool) -> None:
        """Send the whole lines read so far (and with `final`, a last partial one)."""
        with self.lock:
            while True:
                try:
                    chunk = os.read(self.read, 65536)
                except (BlockingIOError, OSError):
                    break
                if not chunk:
                    break
                self.buf += chunk
            lines, newline, rest = self.buf.rpartition(b"\n")
            if final and rest:
                lines, newline, rest = self.buf, b"\n", b""
            if newline:
                self.buf = rest
                _send(self.worker, self.fd, lines.decode("utf-8", "replace"))


_pipes: list[_FdPipe] = []


def capture_fds(worker: Any) -> None:
    """Redirect fds 1 and 2 of this (worker) process to the driver, prefixed."""
    for fd in (1, 2):
        pipe = _FdPipe(worker, fd)
        _pipes.append(pipe)
        threading.Thread(target=pipe.run, name=f"simray-fd{fd}", daemon=True).start()


def drain_fds() -> None:
    """Send what fds 1 and 2 received so far (before a task's end or the process's exit)."""
    for pipe in _pipes:
        pipe.drain(True)
