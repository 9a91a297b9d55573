"""Virtual time for the `time` module and asyncio while a sim session is up.

`time.time`, `monotonic`, `perf_counter` (and their `_ns` forms) read the virtual clock;
`time.sleep` suspends the calling unit until the virtual deadline. asyncio loops read the same
clock through `time.monotonic`, and their selector sleeps in virtual time instead of blocking
the process. `uninstall` puts every original back.
"""

from __future__ import annotations

import selectors
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


class VirtualTime:
    """Installs and removes the virtual clock on the `time` and `selectors` modules."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._saved: dict[str, Any] = {}
        self._saved_selector: Any = None

    def sleep(self, seconds: float) -> None:
        """Suspend the current unit for `seconds` of virtual time (it keeps its resources)."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        kernel = self.kernel
        kernel.sleep_until(kernel.now + seconds)

    def install(self) -> None:
        kernel = self.kernel

        def now() -> float:
            return kernel.now

        replacements = {
            "time": lambda: EPOCH + kernel.now,
            "monotonic": now,
            "perf_counter": now,
            "sleep": self.sleep,
            "time_ns": lambda: int(round((EPOCH + kernel.now) * 1e9)),
            "monotonic_ns": lambda: int(round(kernel.now * 1e9)),
            "perf_counter_ns": lambda: int(round(kernel.now * 1e9)),
        }
        for name in _NAMES:
            self._saved[name] = getattr(time, name)
            setattr(time, name, replacements[name])
        self._saved_selector = selectors.DefaultSelector
        real_selector = self._saved_selector

        class VirtualSelector(real_selector):  # type: ignore[misc,valid-type]
            """Polls real file descriptors without blocking; waits in virtual time instead."""

            def select(self, timeout: float | None = None) -> Any:
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

    def uninstall(self) -> None:
        for name, fn in self._saved.items():
            setattr(time, name, fn)
        self._saved.clear()
        if self._saved_selector is not None:
            selectors.DefaultSelector = self._saved_selector  # type: ignore[misc]
            self._saved_selector = None
