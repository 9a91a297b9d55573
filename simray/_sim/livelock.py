"""The livelock guard: stop a run whose virtual clock stands still while the simulator works.

A loop that costs no virtual time (a busy `while True: pass` in a task, or two units polling each
other with the zero-cost latency model) never lets the clock move and never ends; the deadlock
detector cannot see it, because something always runs. A watchdog thread samples the kernel a
few times a second (nothing is added to the simulator's hot paths): when the driver has been
waiting inside the simulator and the virtual clock has not moved for `SIMRAY_LIVELOCK_SECONDS`
wall seconds (default 60; `0` turns the guard off; `init(_livelock_seconds=...)`; up to twice
that while no unit has been sampled yet, so that the error can name one), it raises
`LivelockError` in the driver, naming the units that ran meanwhile and the line the current one
is at.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from simray import exceptions as exc

DEFAULT_SECONDS = 60.0
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LivelockInterrupt(BaseException):
    """Raised asynchronously in the simulator's thread; the driver turns it into LivelockError.

    A BaseException, so that user code's `except Exception` in a busy loop cannot swallow it.
    """

    message = ""


def resolve_seconds(value: float | None) -> float:
    if value is None:
        text = os.environ.get("SIMRAY_LIVELOCK_SECONDS", "")
        if not text.strip():
            return DEFAULT_SECONDS
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if value < 0:
            raise ValueError(
                f"SIMRAY_LIVELOCK_SECONDS must be a number of wall seconds >= 0 (0: no guard), "
                f"got {text!r}"
            )
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"_livelock_seconds must be a number >= 0 (0: no guard), got {value!r}")
    return float(value)


class Watchdog:
    """Samples one kernel from a real thread; fires once, then stops."""

    def __init__(self, kernel: Any, seconds: float):
        self.kernel = kernel
        self.seconds = seconds
        self.sim_thread = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simray-livelock-guard", daemon=True)

    def start(self) -> None:
        if self.seconds > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        kernel = self.kernel
        interval = min(0.5, self.seconds / 4)
        clock = time.monotonic  # real here: only the simulator's thread sees virtual time
        last_now: float | None = None
        since = clock()
        seen: dict[str, None] = {}  # labels of the units sampled, in order
        while not self._stop.wait(interval):
            current = kernel.current
            if kernel.closed or current is kernel.driver:
                last_now = None  # the driver runs its own code: not the simulator's business
                continue
            if kernel.now != last_now:
                last_now, since = kernel.now, clock()
                seen.clear()
                continue
            if current is not None and len(seen) < 20:
                seen[_label(current)] = None
            waited = clock() - since
            # Name at least one unit when it can: a sample may catch the hub between units
            # (current is None), so with none seen yet it samples up to the threshold again.
            if waited >= self.seconds and (seen or waited >= 2 * self.seconds):
                self._fire(last_now, waited, list(seen), current)
                return

    def _fire(self, now: float, waited: float, units: list[str], current: Any) -> None:
        where = _user_line(sys._current_frames().get(self.sim_thread))
        running = (
            f"running now: {_label(current)}{where}"
            if current is not None
            else ("running now: the simulator's own callbacks (no unit)")
        )
        message = (
            f"livelock: virtual time stood still at t={now:g} s for {waited:.0f} wall seconds "
            f"while the driver waited. Units that ran meanwhile: "
            f"{', '.join(units) or 'none sampled'}; {running}. A loop that costs no virtual "
            "time never ends: a busy loop needs a time.sleep, and a polling loop of remote calls "
            "advances time only with the latency model (SIMRAY_SIM_LATENCY not 0). Raise "
            "SIMRAY_LIVELOCK_SECONDS (0: no guard) if this is real work."
        )
        interrupt = type("LivelockInterrupt", (LivelockInterrupt,), {"message": message})
        import ctypes  # here, when the guard fires: loading it costs every session ~1.5 ms

        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self.sim_thread), ctypes.py_object(interrupt)
        )


def as_error(interrupt: LivelockInterrupt) -> exc.LivelockError:
    return exc.LivelockError(type(interrupt).message)


def _label(unit: Any) -> str:
    label = getattr(unit, "label", None)
    return label() if callable(label) else "the driver"


def _user_line(frame: Any) -> str:
    """` at FILE:LINE in FUNC` for the innermost frame outside simray, if any."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and "greenlet" not in filename:
            return f" at {os.path.basename(filename)}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return ""
