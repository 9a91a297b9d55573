"""Ray's monitor on the sim backend: its infeasible-demand notices (`_model.infeasible`) in
virtual time.

On sim, the monitor's updates fall on multiples of 5 virtual seconds from the session's start,
scheduled only while infeasible demand waits, and not kept up when nothing else is left to
happen (the driver is then deadlocked, and simray says so).
"""

from __future__ import annotations

import math
from typing import Any

from simray._model.infeasible import UPDATE_INTERVAL_S, InfeasibleNotices, infeasible_requests


class SimMonitor:
    """The monitor of a sim session without an autoscaler spec, in virtual time."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.kernel = backend.kernel
        self.notices = InfeasibleNotices()
        self.next_at: float | None = None  # the update due, if any

    def stop(self) -> None:
        """The driver is shutting down: no more notices (the autoscaler's neither)."""
        self.notices.stopped = True
        autoscaler = getattr(self.backend, "autoscaler", None)
        if autoscaler is not None:
            autoscaler.notices.stopped = True

    def wake(self) -> None:
        """Infeasible demand is queued: make sure the next update comes (the scheduler's hook)."""
        at = (math.floor(self.kernel.now / UPDATE_INTERVAL_S) + 1) * UPDATE_INTERVAL_S
        if self.next_at is None or at < self.next_at:
            self._arm(at)

    def _arm(self, at: float) -> None:
        self.next_at = at
        self.kernel.call_at(at, self._update, at)

    def _update(self, at: float) -> None:
        if at != self.next_at:
            return  # superseded by an earlier update
        self.next_at = None
        requests = infeasible_requests(self.backend.scheduler)
        if not requests:
            return
        now = self.kernel.now
        for request in self.notices.report(requests, now):
            self.backend.recorder.record("autoscaler_infeasible", demand=request)
        if self.kernel.has_events():
            # The next update that can print: when the earliest throttled request comes due
            # (new infeasible demand wakes the monitor itself).
            due = min(self.notices.last[tuple(sorted(r.items()))] for r in requests)
            self._arm(due + self.notices.again_after)
