"""The end of a sim session: drain (pending tasks run for a virtual grace period), then put
back what the session changed in the host process (clock, locks, environ, GC, output).
"""

from __future__ import annotations

import gc
from typing import Any


class Shutdown:
    """Mixed into SimBackend: `shutdown` and `drain`."""

    # Provided by SimBackend (among what it uses).
    kernel: Any
    scheduler: Any
    clock: Any
    drain_grace: float
    _arrive: Any

    def shutdown(self) -> None:
        self.drain()
        self.output.uninstall()
        self.watchdog.stop()
        # The session's bookkeeping goes now, by reference counts: the backend is part of
        # reference cycles, so it would otherwise linger (and be walked by the collector with
        # every task row it holds) until a full collection.
        self.task_table.clear()
        self.finished_order.clear()
        self.task_order.clear()
        self.actor_order.clear()
        gc.set_threshold(*self._gc_threshold)
        self.clock.uninstall()
        self.locks.uninstall()
        self.faults.uninstall()
        self.actors.atexit_hook.uninstall()
        self.restore_environ()
        self.kernel.close()
        self.running.clear()
        if self.trace is not None and self.trace_path:
            with open(self.trace_path, "w", encoding="utf-8") as out:
                self.trace.write(out)

    def drain(self) -> None:
        """Let work that is still going run for a virtual grace period before the end, as Ray
        runs tasks submitted and never waited on before the driver's job ends: the driver
        sleeps `SIMRAY_SHUTDOWN_GRACE` virtual seconds (default 1; 0: no drain), and the clock
        jumps when nothing is left to do."""
        kernel = self.kernel
        if kernel.closed or kernel.current is not kernel.driver or self.drain_grace <= 0:
            return
        # Tasks still paying their submission latency (an `_arrive` timer) are pending too.
        if not (self.running or self.scheduler.queues or kernel.has_timer(self._arrive)):
            return  # no task pending (actors' own loops are not drained): the clock stays
        try:
            self.clock.sleep(self.drain_grace)
        except Exception:  # noqa: BLE001 - a run that already failed ends now, as it is
            pass
