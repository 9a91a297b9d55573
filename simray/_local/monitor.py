"""Ray's monitor on the local backend: its infeasible-demand notices (`_model.infeasible`), from
a thread that runs while such demand is queued and wakes at each 5 s update from the session's
start, printing on the driver's stdout as Ray's driver does (from a thread too)."""

from __future__ import annotations

import math
import threading
from typing import Any

from simray._model.infeasible import UPDATE_INTERVAL_S, InfeasibleNotices, infeasible_requests


class LocalMonitor:
    """One local session's monitor; `wake` is the scheduler's hook (called under the lock)."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.notices = InfeasibleNotices()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def wake(self) -> None:
        if self.thread is None and not self.stopping.is_set():
            self.thread = threading.Thread(target=self._run, name="simray-monitor", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        """The driver is shutting down: no more notices."""
        self.notices.stopped = True
        self.stopping.set()

    def _run(self) -> None:
        backend = self.backend
        while True:
            now = backend.now()
            at = (math.floor(now / UPDATE_INTERVAL_S) + 1) * UPDATE_INTERVAL_S
            if self.stopping.wait(at - now):
                return
            with backend.lock:
                requests = infeasible_requests(backend.scheduler)
                if not requests:
                    self.thread = None  # a later infeasible demand starts another
                    return
            self.notices.report(requests, at)
