"""The state API's task table on the sim backend, bounded as Ray's GCS bounds it: past its
cap, rows are evicted the oldest finished first, then actor calls, then tasks.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from simray._sim.actors import EndedCall
from simray._sim.tasks import FINISHED, EndedTask, SubmitTimes, Task


class TaskTable:
    """Mixed into SimBackend: eviction from its `task_table`."""

    # Provided by SimBackend (see its __init__).
    task_table: dict[int, Any]
    task_table_cap: int | float
    task_order_limit: int | float
    finished_order: deque[int]
    actor_order: deque[int]
    task_order: deque[int]
    submit_times: SubmitTimes
    ids: Any

    def trim_task_table(self) -> None:
        """Evict rows while the state API's table is over its cap, in Ray's GCS order: the
        oldest finished first, then the oldest actor calls, then the oldest tasks."""
        table = self.task_table
        cap = self.task_table_cap
        if len(table) > cap:
            order = self.finished_order
            while len(table) > cap and order:
                task_id = order.popleft()
                if finished_row(table.get(task_id)):
                    del table[task_id]
            for order in (self.actor_order, self.task_order):
                while len(table) > cap and order:
                    table.pop(order.popleft(), None)  # an id already gone costs one more turn
        # Drop ids already gone or finished (kept in order), so the tiers stay O(cap).
        if len(self.actor_order) > self.task_order_limit:
            self.actor_order = self._live_ids(self.actor_order)
        if len(self.task_order) > self.task_order_limit:
            self.task_order = self._live_ids(self.task_order)
        submitted = self.submit_times
        if len(submitted.ids) > submitted.limit:  # no row is older than the oldest id kept
            submitted.forget_before(min(table, default=self.ids.task))

    def _live_ids(self, order: deque[int]) -> deque[int]:
        table = self.task_table
        return deque(i for i in order if i in table and not finished_row(table[i]))


def finished_row(unit: Any) -> bool:
    """Whether a state-API row is of a unit that finished (Ray's first tier to evict)."""
    kind = type(unit)
    if kind is Task:  # a finished task that is its own row (the fast end of `_run_task`)
        return unit.state == FINISHED and not unit.returns
    return (kind is EndedTask or kind is EndedCall) and unit.error is None
