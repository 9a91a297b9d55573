"""Ray's notices about infeasible demand, printed on the driver's stdout as Ray 2.60 prints them;
the same on every backend that schedules its own tasks (sim, local).

Ray's monitor process runs an autoscaler update every 5 s, on a local cluster too: each update
reports every queued resource request no node type could ever hold (tasks inside placement
groups aside; pending groups' bundles are reported) as "Error: No available node types can
fulfill resource request {...}", at most once per 30 s per request
(`EventSummarizer.add_once_per_interval`); the monitor clears the throttle at the end of an
update, so a request still pending is reported again 35 s later. The lines reach the driver's
stdout as `(autoscaler +Ns) ...`, after a tip the first time, N counting from the start of the
job (`_output.autoscaler_lines`); none when the program ended before the update. Ray prints a
multi-resource request in an order that differs from cluster to cluster (the monitor reads it
from a protobuf map); simray prints the demand's own order.
"""

from __future__ import annotations

import sys
from typing import Any

from simray._model.resources import to_floats
from simray._output import autoscaler_lines

# `_model.autoscaler` (dataclasses, and with them inspect) is imported when infeasible demand
# first comes: a session without any pays nothing for it.

UPDATE_INTERVAL_S = 5.0  # Ray's AUTOSCALER_UPDATE_INTERVAL_S
REPORT_INTERVAL_S = 30.0  # `_report_pending_infeasible`'s interval_s


class InfeasibleNotices:
    """The throttle of Ray's event summarizer for infeasible requests, and the printing."""

    def __init__(self, update_interval_s: float = UPDATE_INTERVAL_S):
        # A request reported at update t is dropped from the throttle by the first update
        # after t + 30 s (Ray's clear runs after the update, a little later each time: on a
        # 5 s loop that is the update at t + 30), so it comes again at the update after that.
        self.again_after = REPORT_INTERVAL_S + update_interval_s
        self.last: dict[tuple[tuple[str, float], ...], float] = {}
        self.stopped = False  # the driver is shutting down: nothing more reaches it

    def report(self, requests: list[dict[str, float]], now: float) -> list[dict[str, float]]:
        """Print the requests (in Ray's order) not reported within the throttle; return them."""
        shown: list[dict[str, float]] = []
        if self.stopped:
            return shown
        for request in requests:
            key = tuple(sorted(request.items()))
            last = self.last.get(key)
            if last is not None and now < last + self.again_after - 1e-9:
                continue
            self.last[key] = now
            shown.append(request)
        if shown:
            from simray._model.autoscaler import infeasible_message

            text = autoscaler_lines([infeasible_message(r) for r in shown], now)
            if text:
                try:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                except Exception:  # noqa: BLE001 - the driver's stream may be closed at exit
                    pass
        return shown


def infeasible_requests(scheduler: Any) -> list[dict[str, float]]:
    """The distinct requests no alive node could ever hold, in Ray's report order: queued
    tasks and actors outside placement groups (judged by resources alone, as Ray's v1
    autoscaler does), and pending placement groups' bundles as the autoscaler sees them
    (PACK and SPREAD bundle by bundle, STRICT_PACK summed, STRICT_SPREAD not at all)."""
    from simray._model.autoscaler import (
        PendingPlacementGroup,
        demand_order,
        fits,
        placement_groups_to_resource_demands,
    )
    from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    nodes = scheduler.nodes
    found: dict[tuple[tuple[str, float], ...], dict[str, float]] = {}
    for queue in scheduler.queues.values():
        if not queue:
            continue
        task = queue[0]  # a queue is one scheduling class: one demand, one strategy
        if isinstance(task.strategy, PlacementGroupSchedulingStrategy):
            continue
        request = to_floats(task.demand)
        key = tuple(sorted(request.items()))
        if key not in found and not any(n.resources.feasible(task.demand) for n in nodes):
            found[key] = request
    pgs = scheduler.pgs
    if pgs is not None and pgs.pending:
        groups = [
            PendingPlacementGroup(pg.strategy, [to_floats(d) for d in pg.demands])
            for pg in pgs.pending
        ]
        totals = [to_floats(n.resources.total) for n in nodes]
        for bundle in placement_groups_to_resource_demands(groups)[0]:
            request = dict(bundle)
            key = tuple(sorted(request.items()))
            if key not in found and not any(fits(t, request) for t in totals):
                found[key] = request
    return sorted(found.values(), key=demand_order, reverse=True)
