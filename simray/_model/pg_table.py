"""Placement groups as the sim and local backends keep them: Ray's checks of `bundles` and
`strategy`, gang placement of pending groups (`placement.place_bundles`), removal, and the rows
of `placement_group_table()`. Each backend adds its own refs, clock and trace around this.

A group is created atomically (every bundle or none) when its strategy can be met; until then it
is PENDING and retried whenever resources free up or nodes join. Each bundle becomes a pool
carved out of its node, and tasks with a `PlacementGroupSchedulingStrategy` run in that pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simray._model import placement
from simray._model.resources import NodeResources

PENDING, CREATED, REMOVED = "PENDING", "CREATED", "REMOVED"
STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


class Bundle:
    """One reserved bundle: a resource pool on a node."""

    __slots__ = ("index", "node", "resources", "shares")

    def __init__(
        self, index: int, node: Any, demand: dict[str, int], shares: list[tuple[int, int]]
    ):
        self.index = index
        self.node = node
        self.shares = shares  # what the bundle took from its node
        self.resources = NodeResources(
            demand, gpu_shares=[(node.resources.gpu_ids[i], u) for i, u in shares]
        )


class PlacementGroupRecord:
    """One placement group's record."""

    def __init__(self, pg_id: int, demands: list[dict[str, int]], strategy: str, name: str):
        self.pg_id = pg_id
        self.demands = demands
        self.strategy = strategy
        self.name = name
        self.state = PENDING
        self.shape = (strategy, tuple(tuple(sorted(d.items())) for d in demands))
        self.bundles: list[Bundle] = []
        self.ready_ref: Any = None
        self.handle: Any = None
        # What `placement_group_table()` reports, as Ray's GCS fills it: where each bundle was
        # placed (kept after removal), creation times and scheduling attempts.
        self.bundle_nodes: dict[int, str] = {}
        self.requested_at = 0.0
        self.placed_at: float | None = None
        self.attempts = 0
        self.sched_state = "QUEUED"

    def hex(self) -> str:
        return f"{self.pg_id:036x}"

    def label(self) -> str:
        return f"placement group {self.name or self.hex()} ({self.strategy}, {len(self.demands)} bundles)"


def bundle_demands(bundles: list[dict[str, float]], strategy: str) -> list[dict[str, int]]:
    """The fixed-point demands of `bundles`, after Ray's checks (with its messages)."""
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
        # Ray 2.60 does not check signs here (a negative bundle adds capacity); neither do we.
        demands.append({k: round(v * 10_000) for k, v in bundle.items() if v})
    return demands


class GroupTable:
    """The placement groups of one session; `clock()` is the session's time in seconds."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.pending: list[Any] = []
        self.all: list[Any] = []
        # Called when a group no node could ever hold stays pending (the monitor's wake-up).
        self.on_infeasible: Callable[[], None] | None = None

    def add(self, pg: PlacementGroupRecord) -> None:
        """A new group, pending until `place_pending` creates it."""
        pg.requested_at = self.clock()
        self.all.append(pg)
        self.pending.append(pg)

    def place_pending(self, nodes: list[Any], placed: Callable[[Any], None]) -> bool:
        """Try to create pending groups, oldest first, calling `placed(pg)` for each created;
        True if any was."""
        created = False
        # Placing a group only takes resources, so a shape that did not fit earlier in this
        # pass cannot fit later in it: try each failed shape once.
        failed: dict[Any, str] = {}
        for pg in list(self.pending):
            pg.attempts += 1
            shape = pg.shape
            if shape in failed:
                pg.sched_state = failed[shape]
                continue
            chosen = placement.place_bundles(nodes, pg.demands, pg.strategy, empty=False)
            if chosen is None:
                if placement.place_bundles(nodes, pg.demands, pg.strategy, empty=True) is None:
                    pg.sched_state = "INFEASIBLE"
                    if self.on_infeasible is not None:
                        self.on_infeasible()
                else:
                    pg.sched_state = "NO_RESOURCES"
                failed[shape] = pg.sched_state
                continue
            pg.bundles = [
                Bundle(i, node, demand, node.resources.allocate(demand))
                for i, (node, demand) in enumerate(zip(chosen, pg.demands, strict=True))
            ]
            pg.state = CREATED
            pg.sched_state = "FINISHED"
            pg.placed_at = self.clock()
            pg.bundle_nodes = {b.index: b.node.node_id for b in pg.bundles}
            self.pending.remove(pg)
            placed(pg)
            created = True
        return created

    def release(self, pg: PlacementGroupRecord) -> set[int] | None:
        """Remove `pg`: its bundles go back to their nodes; the ids of the bundle pools that
        ended (work running in them fails), or None if it was removed already."""
        if pg.state == REMOVED:
            return None
        if pg in self.pending:
            self.pending.remove(pg)
        for bundle in pg.bundles:
            if bundle.node.alive:
                bundle.node.resources.release(pg.demands[bundle.index], bundle.shares)
        pools = {id(b.resources) for b in pg.bundles}
        pg.bundles = []
        pg.state = REMOVED
        pg.sched_state = "REMOVED"
        return pools

    def table(self, pg: PlacementGroupRecord) -> dict[str, Any]:
        """`placement_group_table(pg)`, as Ray's GCS reports it."""
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
    """A latency in milliseconds (virtual on sim), 0 until the group is placed."""
    return 0.0 if end is None else round((end - start) * 1000, 3)
