"""Virtual time for the `time` module and asyncio while a sim session is up.

`time.time`, `monotonic`, `perf_counter` (and their `_ns` forms) read the virtual clock;
`time.sleep` suspends the calling unit until the virtual deadline. asyncio loops read the same
clock through `time.monotonic`, and their selector sleeps in virtual time instead of blocking
the process. `uninstall` puts every original back.

Only the simulator's own thread (the driver and every unit) sees the virtual clock: a real
thread that a library starts (concurrent.futures, logging handlers, multiprocessing's helpers)
reads real time and sleeps for real, and a forked child gets the real `time` module back.
"""

from __future__ import annotations

import os
import selectors
import sys
import threading
import time
from typing import Any

from simray._sim.kernel import Kernel

# The wall-clock epoch of virtual time 0: 2026-01-01T00:00:00Z, fixed so nothing reads the host.
EPOCH = 1_767_225_600.0
_NAMES = (
    "time",
    "monotonic",
    "perf_counter",
    "sleep",
    "time_ns",
    "monotonic_ns",
    "perf_counter_ns",
)


# The session whose clock is installed, so a forked child can put the real one back.
_installed: VirtualTime | None = None


def _after_fork_in_child() -> None:
    if _installed is not None:
        _installed.uninstall()


os.register_at_fork(after_in_child=_after_fork_in_child)


class VirtualTime:
    """Installs and removes the virtual clock on the `time` and `selectors` modules."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._saved: dict[str, Any] = {}
        self._saved_selector: Any = None
        self._thread = threading.get_ident()  # the simulator's thread: only it is virtual
        self._watch: _AsyncioWatch | None = None

    def sleep(self, seconds: float) -> None:
        """Suspend the current unit for `seconds` of virtual time (it keeps its resources)."""
        self.kernel.sleep(seconds)

    def install(self) -> None:
        global _installed
        kernel = self.kernel
        sim_thread = self._thread
        get_ident = threading.get_ident
        real = {name: getattr(time, name) for name in _NAMES}
        real_time, real_monotonic = real["time"], real["monotonic"]
        real_perf, real_time_ns = real["perf_counter"], real["time_ns"]
        real_monotonic_ns, real_perf_ns = real["monotonic_ns"], real["perf_counter_ns"]

        def virtual_time() -> float:
            return EPOCH + kernel.now if get_ident() == sim_thread else real_time()

        def monotonic() -> float:
            return kernel.now if get_ident() == sim_thread else real_monotonic()

        def perf_counter() -> float:
            return kernel.now if get_ident() == sim_thread else real_perf()

        def time_ns() -> int:
            if get_ident() == sim_thread:
                return int(round((EPOCH + kernel.now) * 1e9))
            return real_time_ns()

        def monotonic_ns() -> int:
            if get_ident() == sim_thread:
                return int(round(kernel.now * 1e9))
            return real_monotonic_ns()

        def perf_counter_ns() -> int:
            if get_ident() == sim_thread:
                return int(round(kernel.now * 1e9))
            return real_perf_ns()

        kernel.thread = sim_thread
        kernel.real_sleep = real["sleep"]
        kernel.asyncio_imported = "asyncio.events" in sys.modules
        if not kernel.asyncio_imported:
            self._watch = _AsyncioWatch(kernel)
            sys.meta_path.insert(0, self._watch)

        replacements = {
            "time": virtual_time,
            "monotonic": monotonic,
            "perf_counter": perf_counter,
            "sleep": kernel.sleep,
            "time_ns": time_ns,
            "monotonic_ns": monotonic_ns,
            "perf_counter_ns": perf_counter_ns,
        }
        self._saved.update(real)
        for name in _NAMES:
            setattr(time, name, replacements[name])
        self._saved_selector = selectors.DefaultSelector
        real_selector = self._saved_selector

        class VirtualSelector(real_selector):  # type: ignore[misc,valid-type]
            """Polls real file descriptors without blocking; waits in virtual time instead."""

            def select(self, timeout: float | None = None) -> Any:
                if get_ident() != sim_thread:
                    return super().select(timeout)  # an event loop in a real thread
                kernel.asyncio_imported = True  # (a loop runs here, however asyncio came in)
                events = super().select(0)
                if events or timeout is not None and timeout <= 0:
                    return events
                # Wait in virtual time until the loop's next timer, or until a ref it awaits
                # resolves (the backend wakes units blocked on "asyncio").
                if timeout is not None:
                    kernel.wake_at(kernel.now + timeout, kernel.current)
                kernel.block(("asyncio", self))
                return super().select(0)

        selectors.DefaultSelector = VirtualSelector  # type: ignore[misc]
        _installed = self

    def uninstall(self) -> None:
        global _installed
        if _installed is self:
            _installed = None
        if self._watch is not None:
            if self._watch in sys.meta_path:
                sys.meta_path.remove(self._watch)
            self._watch = None
        for name, fn in self._saved.items():
            setattr(time, name, fn)
        self._saved.clear()
        if self._saved_selector is not None:
            selectors.DefaultSelector = self._saved_selector  # type: ignore[misc]
            self._saved_selector = None


class _AsyncioWatch:
    """A meta path finder that finds nothing: it tells the kernel when asyncio's loop module
    is first imported while the session is up (`Kernel.sleep` looks for a running loop only
    from then on). It stays until `uninstall`: removing itself during the import system's walk
    of `sys.meta_path` would skip the next finder."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "asyncio.events":
            self.kernel.asyncio_imported = True
