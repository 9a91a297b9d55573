"""Placement groups on the sim backend: the shared table (`_model.pg_table`) on the virtual
clock, with each group's ready ref, its trace events and asynchronous creation.
"""

from __future__ import annotations

from typing import Any

from simray._model import placement
from simray._model.pg_table import GroupTable, PlacementGroupRecord, bundle_demands
from simray._sim.objects import READY, SimRef, pack


class PlacementGroups(GroupTable):
    """The placement groups of one sim session."""

    def __init__(self, backend: Any):
        super().__init__(lambda: backend.kernel.now)
        self.backend = backend

    def create(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> PlacementGroupRecord:
        demands = bundle_demands(bundles, strategy)
        backend = self.backend
        pg_id = backend.ids.new_object()
        pg = PlacementGroupRecord(pg_id, demands, strategy, name)
        pg.ready_ref = SimRef(pg_id)
        self.add(pg)
        backend.recorder.record("pg_created", pg=pg.pg_id, strategy=strategy, bundles=len(demands))
        # Creation is asynchronous, as in Ray: the group is placed once the caller yields.
        backend.kernel.call_soon(lambda _: backend.scheduler.dispatch())
        return pg

    def schedule(self) -> bool:
        """Try to create pending groups, oldest first; True if any was created."""
        return self.place_pending(self.backend.scheduler.nodes, self._placed)

    def _placed(self, pg: PlacementGroupRecord) -> None:
        self.backend.recorder.record(
            "pg_placed", pg=pg.pg_id, nodes=[b.node.index for b in pg.bundles]
        )
        pg.ready_ref.resolve(READY, pack(pg.handle))

    def infeasible(self, pg: PlacementGroupRecord) -> bool:
        nodes = self.backend.scheduler.nodes
        return placement.place_bundles(nodes, pg.demands, pg.strategy, empty=True) is None

    def remove(self, pg: PlacementGroupRecord) -> None:
        pools = self.release(pg)
        if pools is None:
            return
        self.backend.recorder.record("pg_removed", pg=pg.pg_id)
        self.backend.placement_group_removed(pg, pools)
