"""Placement groups on the local backend: the sim's model (`_model.placement`), real time.

A group is created atomically when its strategy can be met, retried whenever the scheduler
dispatches; each bundle is a resource pool carved out of its node that tasks run in.
"""

from __future__ import annotations

import logging
from typing import Any

from simray._local.objects import READY
from simray._model import placement
from simray._model.resources import format_demand
from simray._sim.placement_groups import CREATED, PENDING, REMOVED, STRATEGIES, Bundle

log = logging.getLogger("simray")


class LocalPlacementGroup:
    """One group's record."""

    def __init__(self, pg_id: int, demands: list[dict[str, int]], strategy: str, name: str):
        self.pg_id = pg_id
        self.demands = demands
        self.strategy = strategy
        self.name = name
        self.state = PENDING
        self.bundles: list[Bundle] = []
        self.ready_ref: Any = None
        self.handle: Any = None
        self.requested_at = 0.0
        self.placed_at: float | None = None
        self.attempts = 0
        self.sched_state = "QUEUED"
        self.bundle_nodes: dict[int, str] = {}  # kept after removal, as Ray's table does

    def hex(self) -> str:
        return f"{self.pg_id:036x}"


class PlacementGroups:
    """The placement groups of one local session."""

    def __init__(self, backend: Any):
        self.b = backend
        self.pending: list[LocalPlacementGroup] = []
        self.all: list[LocalPlacementGroup] = []
        self.by_id: dict[int, LocalPlacementGroup] = {}
        self._warned: set[int] = set()

    def create(self, bundles: list[dict[str, float]], strategy: str, name: str) -> Any:
        if strategy not in STRATEGIES:
            raise ValueError(
                f"Invalid placement group strategy {strategy}. Supported strategies are: "
                f"{list(STRATEGIES)}."
            )
        if not bundles or not all(isinstance(b, dict) for b in bundles):
            raise ValueError(
                "The placement group `bundles` argument cannot contain an empty list; give a "
                f"list of resource dicts, got {bundles!r}"
            )
        demands = []
        for bundle in bundles:
            if not bundle or all(v == 0 for v in bundle.values()):
                raise ValueError(
                    f"Bundles cannot be an empty dictionary or resources with only 0 values. "
                    f"Bundles: {bundles}"
                )
            demands.append({k: round(v * 10_000) for k, v in bundle.items() if v})
        ref = self.b.new_ref()
        ref.entry.escaped = True
        pg = LocalPlacementGroup(ref._id, demands, strategy, name)
        pg.ready_ref = ref
        pg.requested_at = self.b.now()
        self.all.append(pg)
        self.by_id[pg.pg_id] = pg
        self.pending.append(pg)
        # Creation is asynchronous, as in Ray: the group is placed after the caller returns.
        self.b.call_soon(self.b.scheduler.dispatch)
        return pg

    def schedule(self) -> bool:
        created = False
        nodes = self.b.scheduler.nodes
        for pg in list(self.pending):
            pg.attempts += 1
            chosen = placement.place_bundles(nodes, pg.demands, pg.strategy, empty=False)
            if chosen is None:
                if placement.place_bundles(nodes, pg.demands, pg.strategy, empty=True) is None:
                    pg.sched_state = "INFEASIBLE"
                    self._warn_infeasible(pg)
                else:
                    pg.sched_state = "NO_RESOURCES"
                continue
            pg.bundles = [
                Bundle(i, node, demand, node.resources.allocate(demand))
                for i, (node, demand) in enumerate(zip(chosen, pg.demands, strict=True))
            ]
            pg.state = CREATED
            pg.sched_state = "FINISHED"
            pg.placed_at = self.b.now()
            pg.bundle_nodes = {b.index: b.node.node_id for b in pg.bundles}
            self.pending.remove(pg)
            pg.ready_ref.entry.resolve(READY, self.b.pack(pg.handle))
            created = True
        return created

    def _warn_infeasible(self, pg: LocalPlacementGroup) -> None:
        if pg.pg_id not in self._warned:
            self._warned.add(pg.pg_id)
            log.warning(
                "(autoscaler +%ds) Error: No available node types can fulfill placement group "
                "%s with bundles %s. Add suitable node types to this cluster to resolve this issue.",
                int(self.b.now()),
                pg.strategy,
                [format_demand(d) for d in pg.demands],
            )

    def remove(self, pg: LocalPlacementGroup) -> None:
        if pg.state == REMOVED:
            return
        if pg in self.pending:
            self.pending.remove(pg)
        for bundle in pg.bundles:
            if bundle.node.alive:
                bundle.node.resources.release(pg.demands[bundle.index], bundle.shares)
        pools = {id(b.resources) for b in pg.bundles}
        pg.bundles = []
        pg.state = REMOVED
        pg.sched_state = "REMOVED"
        self.b.placement_group_removed(pools)

    def table(self, pg: LocalPlacementGroup) -> dict[str, Any]:
        return {
            "placement_group_id": pg.hex(),
            "name": pg.name,
            "bundles": {i: {k: v / 10_000 for k, v in d.items()} for i, d in enumerate(pg.demands)},
            "bundles_to_node_id": dict(pg.bundle_nodes),
            "strategy": pg.strategy,
            "state": pg.state,
            "stats": {
                "end_to_end_creation_latency_ms": _ms(pg.placed_at, pg.requested_at),
                "scheduling_latency_ms": _ms(pg.placed_at, pg.requested_at),
                "scheduling_attempt": pg.attempts,
                "highest_retry_delay_ms": 0.0,
                "scheduling_state": pg.sched_state,
            },
        }


def _ms(end: float | None, start: float) -> float:
    return 0.0 if end is None else round((end - start) * 1000, 3)
