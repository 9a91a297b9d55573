"""Placement groups on the sim backend: the shared table (`_model.pg_table`) on the virtual
clock, with each group's ready ref, its trace events and asynchronous creation; and the
backend's placement-group API over it (`PlacementGroupAPI`, mixed into SimBackend).
"""

from __future__ import annotations

from typing import Any

from simray import _ids
from simray import exceptions as exc
from simray._model import placement
from simray._model.pg_table import GroupTable, PlacementGroupRecord, bundle_demands
from simray._sim.objects import FAILED, PENDING, READY, new_ref, pack
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy


class SimPlacementGroup(PlacementGroupRecord):
    """A placement group of a sim session: its PlacementGroupID comes from the seed."""

    def hex(self) -> str:
        return _ids.current.pg_binary(self.pg_id).hex()


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
        pg_id = backend.ids.new_pg()
        pg = SimPlacementGroup(pg_id, demands, strategy, name)
        pg.ready_ref = new_ref(_ids.PG_READY_TASK | pg_id)  # as the return of Ray's ready() task
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


class PlacementGroupAPI:
    """Mixed into SimBackend: the api layer's placement-group calls, and what a removed
    group's work suffers."""

    # Provided by SimBackend.
    kernel: Any
    scheduler: Any
    pgs: PlacementGroups
    running: dict[int, Any]
    actors: Any
    wait_refs: Any
    finish_task: Any

    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        return self.pgs.create(bundles, strategy, name)

    def remove_placement_group(self, record: Any) -> None:
        self.pgs.remove(record)

    def placement_group_table(self, record: Any) -> dict[str, Any]:
        return self.pgs.table(record)

    def placement_groups(self) -> list[Any]:
        return list(self.pgs.all)

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        ref = record.ready_ref
        if ref.state == PENDING and (timeout is None or timeout > 0):
            self.wait_refs([ref], 1, False, timeout)
        return ref.state == READY

    def current_placement_group(self) -> Any:
        unit = self.kernel.current
        strategy = getattr(unit, "strategy", None)
        if isinstance(strategy, PlacementGroupSchedulingStrategy):
            return strategy.placement_group
        return None

    def placement_group_removed(self, pg: Any, pools: set[int]) -> None:
        """Work inside a removed group fails, as Ray kills it."""
        for task in [t for t in self.running.values() if id(t.pool) in pools]:
            self.kernel.abandon(task)
            task.node = None  # its pool went with the group
            self.finish_task(task, FAILED, exc.TaskPlacementGroupRemoved())
        for actor in [a for a in self.actors.all if id(a.pool) in pools and a.state != "dead"]:
            actor.pool, actor.holds, actor.gpu_shares = None, {}, []
            self.actors.die(
                actor,
                exc.ActorDiedError(
                    class_name=actor.opts.class_name,
                    actor_id=actor.hex(),
                    namespace=actor.namespace,
                    error_message="The actor is dead because its placement group was removed.",
                ),
            )
        self.scheduler.dispatch()
