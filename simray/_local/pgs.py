"""Placement groups on the local backend: the shared table (`_model.pg_table`) in real time,
each group's ready ref an entry of the driver's object table.
"""

from __future__ import annotations

from typing import Any

from simray._local.ids import object_id, task_bits
from simray._local.objects import READY
from simray._model.pg_table import GroupTable, PlacementGroupRecord, bundle_demands


class PlacementGroups(GroupTable):
    """The placement groups of one local session."""

    def __init__(self, backend: Any):
        super().__init__(backend.now)
        self.b = backend
        self.by_id: dict[int, PlacementGroupRecord] = {}

    def create(self, bundles: list[dict[str, float]], strategy: str, name: str) -> Any:
        demands = bundle_demands(bundles, strategy)
        number = self.b.ids.new_task()  # Ray: the ready ref is a task's return
        ref = self.b.new_ref(object_id(task_bits(number), 1))
        ref.entry.escaped = True
        pg = PlacementGroupRecord(number, demands, strategy, name)
        pg.ready_ref = ref
        self.add(pg)
        self.by_id[pg.pg_id] = pg
        # Creation is asynchronous, as in Ray: the group is placed after the caller returns.
        self.b.call_soon(self.b.scheduler.dispatch)
        return pg

    def schedule(self) -> bool:
        return self.place_pending(self.b.scheduler.nodes, self._placed)

    def _placed(self, pg: PlacementGroupRecord) -> None:
        pg.ready_ref.entry.resolve(READY, self.b.pack(pg.handle))

    def remove(self, pg: PlacementGroupRecord) -> None:
        pools = self.release(pg)
        if pools is not None:
            self.b.placement_group_removed(pools)
