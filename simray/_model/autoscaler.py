"""Ray's v1 autoscaler policy (`resource_demand_scheduler.py`, `autoscaler.py`) as pure functions.

Everything here works on Ray's own data shapes: a node type config is a dict with `resources`,
`min_workers`, `max_workers`; a resource dict maps names to float quantities; node types keep
config order. The functions follow Ray 2.60 step by step (first-fit-decreasing residual,
greedy node-type choice by the utilisation score, min workers, `request_resources`, placement
groups with strict spread, the launch-rate limit, idle termination), so that the same inputs
give the same nodes to launch; a property test checks that against Ray's code when Ray is
installed. Nothing here knows about time or the simulator.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ResourceDict = dict[str, float]
NodeTypes = Mapping[str, Mapping[str, Any]]
Scorer = Callable[[Mapping[str, float], Sequence[Mapping[str, float]], str], Any]

IMPLICIT_RESOURCE_PREFIX = "node:__internal_implicit_resource_"
UPSCALING_INITIAL_NUM_NODES = 5  # AUTOSCALER_UPSCALING_INITIAL_NUM_NODES
MAX_LAUNCH_BATCH = 5  # AUTOSCALER_MAX_LAUNCH_BATCH
MAX_RESOURCE_DEMAND_VECTOR_SIZE = 1000  # AUTOSCALER_MAX_RESOURCE_DEMAND_VECTOR_SIZE
CONSERVE_GPU_NODES = True  # AUTOSCALER_CONSERVE_GPU_NODES
UPDATE_INTERVAL_S = 5.0  # AUTOSCALER_UPDATE_INTERVAL_S
_PG_WILDCARD = re.compile(r"^(.+)_group_([0-9a-zA-Z]+)$")
_PG_INDEXED = re.compile(r"^(.+)_group_(\d+)_([0-9a-zA-Z]+)$")


def is_placement_group_resource(name: str) -> bool:
    """Whether a resource name is a placement group's (`CPU_group_<id>`), as Ray's util."""
    return bool(_PG_WILDCARD.match(name) or _PG_INDEXED.match(name))


def fits(node: Mapping[str, float], demand: Mapping[str, float]) -> bool:
    """Ray's `_fits`: every demanded quantity is available (implicit resources count 1)."""
    for k, v in demand.items():
        have = node.get(k)
        if have is None:
            have = 1.0 if k.startswith(IMPLICIT_RESOURCE_PREFIX) else 0.0
        if v > have:
            return False
    return True


def _subtract(node: dict[str, float], demand: Mapping[str, float]) -> None:
    for k, v in demand.items():
        if v == 0:
            continue
        if k not in node:
            node[k] = 1
        node[k] -= v


def demand_order(demand: Mapping[str, float]) -> tuple[int, float, list[tuple[str, float]]]:
    """Ray's sort key for demands (taken in decreasing order): resource kinds, total, items."""
    return (len(demand), sum(demand.values()), sorted(demand.items()))


def get_bin_pack_residual(
    node_resources: Sequence[Mapping[str, float]],
    resource_demands: Sequence[Mapping[str, float]],
    strict_spread: bool = False,
) -> tuple[list[ResourceDict], list[ResourceDict]]:
    """First-fit decreasing of `resource_demands` onto copies of `node_resources`.

    Returns the demands that do not fit and the nodes' remaining resources (same order).
    Demands are taken most resource kinds first, then largest total, then by their items.
    """
    unfulfilled: list[ResourceDict] = []
    nodes = [dict(n) for n in node_resources]
    used: set[int] = set()
    # Equal demands sort together, and nodes only shrink, so a demand equal to the previous
    # one need not try the nodes the previous one skipped: first fit resumes where it stopped.
    # (The result is Ray's; this only saves the scans, which dominate large clusters.)
    previous: Mapping[str, float] | None = None
    resume = 0
    for demand in sorted(resource_demands, key=demand_order, reverse=True):
        if demand is not previous and demand != previous:
            resume = 0
        previous = demand
        for i in range(resume, len(nodes)):
            if i in used:
                continue
            node = nodes[i]
            if fits(node, demand):
                resume = i
                if strict_spread:
                    used.add(i)
                # Ray tests `found and node`: a node with no resources at all (an empty dict)
                # counts as not found even when a zero demand fits it.
                if node:
                    _subtract(node, demand)
                    break
                unfulfilled.append(demand)  # type: ignore[arg-type]
                break
        else:
            resume = len(nodes)
            unfulfilled.append(demand)  # type: ignore[arg-type]
    return unfulfilled, nodes


def utilization_score(
    node_resources: Mapping[str, float],
    demands: Sequence[Mapping[str, float]],
    node_type: str | None = None,
) -> tuple[bool, int, float, float] | None:
    """Ray's default scorer: how well a node type would be used by `demands` (higher wins).

    (no GPU node for work without GPUs, resource kinds matched, the least utilised resource,
    mean utilisation), each utilisation weighted `capacity * used_fraction**3`; None when the
    type can take none of the demands.
    """
    remaining = dict(node_resources)
    fittable = False
    kinds: set[str] = set()
    for r in demands:
        for k, v in r.items():
            if v > 0:
                kinds.add(k)
        if fits(remaining, r):
            fittable = True
            _subtract(remaining, r)
    if not fittable:
        return None
    util: list[float] = []
    matching = 0
    for k, v in node_resources.items():
        if v < 1:
            continue
        if k in kinds:
            matching += 1
        u = (v - remaining[k]) / v
        util.append(v * (u**3))
    if not util:
        return None
    gpu_ok = True
    if CONSERVE_GPU_NODES:
        if "GPU" in node_resources and node_resources["GPU"] > 0:
            if not any("GPU" in r for r in demands):
                gpu_ok = False
    return (gpu_ok, matching, min(util), float(sum(util)) / len(util))


def get_nodes_for(
    node_types: NodeTypes,
    existing_nodes: Mapping[str, int],
    head_node_type: str,
    max_to_add: int,
    demands: Sequence[Mapping[str, float]],
    utilization_scorer: Scorer | None = None,
    strict_spread: bool = False,
) -> tuple[dict[str, int], list[ResourceDict]]:
    """Node types to add for `demands`, greedily by score, within per-type and global caps.

    Ray's `get_nodes_for`: returns (node type -> count to add, demands still unfulfilled).
    Ties in score go to the type whose name sorts last, as Ray's `sorted(..., reverse=True)`.
    """
    scorer = utilization_scorer or utilization_score
    to_add: dict[str, int] = defaultdict(int)
    resources = list(demands)
    while resources and sum(to_add.values()) < max_to_add:
        scores = []
        for node_type, config in node_types.items():
            cap = config.get("max_workers", 0)
            if node_type == head_node_type:
                cap += 1
            if existing_nodes.get(node_type, 0) + to_add.get(node_type, 0) >= cap:
                continue
            shapes = [resources[0]] if strict_spread else resources
            score = scorer(config["resources"], shapes, node_type)
            if score is not None:
                scores.append((score, node_type))
        if not scores:
            break
        best = sorted(scores, reverse=True)[0][1]
        to_add[best] += 1
        if strict_spread:
            resources = resources[1:]
        else:
            resources, _ = get_bin_pack_residual([node_types[best]["resources"]], resources)
    return to_add, resources  # type: ignore[return-value]


@dataclass
class PendingPlacementGroup:
    """A placement group the autoscaler sees: its strategy and its bundles not yet placed."""

    strategy: str  # PACK, SPREAD, STRICT_PACK, STRICT_SPREAD
    bundles: list[ResourceDict]


def placement_groups_to_resource_demands(
    groups: Sequence[PendingPlacementGroup],
) -> tuple[list[ResourceDict], list[list[ResourceDict]]]:
    """PACK/SPREAD bundles become separate demands, STRICT_PACK one summed demand,
    STRICT_SPREAD groups are kept apart (one node per bundle)."""
    vector: list[ResourceDict] = []
    spreads: list[list[ResourceDict]] = []
    for pg in groups:
        shapes = [dict(b) for b in pg.bundles]
        if pg.strategy in ("PACK", "SPREAD"):
            vector.extend(shapes)
        elif pg.strategy == "STRICT_PACK":
            combined: dict[str, float] = defaultdict(float)
            for shape in shapes:
                for k, v in shape.items():
                    combined[k] += v
            vector.append(combined)
        elif pg.strategy == "STRICT_SPREAD":
            spreads.append(shapes)
    return vector, spreads


def _fresh(node_types: NodeTypes, node_type: str, count: int) -> list[ResourceDict]:
    return [dict(node_types[node_type]["resources"]) for _ in range(count)]


def add_min_workers_nodes(
    node_resources: list[ResourceDict],
    node_type_counts: dict[str, int],
    node_types: NodeTypes,
    max_workers: int,
    head_node_type: str,
    ensure_min_cluster_size: Sequence[Mapping[str, float]],
    scorer: Scorer | None = None,
) -> tuple[list[ResourceDict], dict[str, int], dict[str, int]]:
    """Add nodes for `min_workers`, then for `request_resources` bundles packed on all nodes
    as if idle (a request is about total capacity, not free capacity)."""
    added: dict[str, int] = {}
    for node_type, config in node_types.items():
        existing = node_type_counts.get(node_type, 0)
        target = min(config.get("min_workers", 0), config.get("max_workers", 0))
        if node_type == head_node_type:
            target += 1
        if existing < target:
            added[node_type] = target - existing
            node_type_counts[node_type] = target
            node_resources.extend(_fresh(node_types, node_type, added[node_type]))
    if ensure_min_cluster_size:
        max_to_add = max_workers + 1 - sum(node_type_counts.values())
        totals: list[ResourceDict] = []
        for node_type in node_type_counts:
            totals.extend(_fresh(node_types, node_type, node_type_counts[node_type]))
        residual, _ = get_bin_pack_residual(totals, ensure_min_cluster_size)
        extra, _ = get_nodes_for(
            node_types, node_type_counts, head_node_type, max_to_add, residual, scorer
        )
        for node_type, n in extra.items():
            if n > 0:
                node_type_counts[node_type] = n + node_type_counts.get(node_type, 0)
                node_resources.extend(_fresh(node_types, node_type, n))
                added[node_type] = n + added.get(node_type, 0)
    return node_resources, node_type_counts, added


@dataclass
class ClusterNode:
    """A non-terminated worker or head as the autoscaler sees it.

    `available` is the node's unused resources once it reports (connected), else None.
    """

    node_type: str
    available: ResourceDict | None = None
    static: ResourceDict | None = None
    is_head: bool = False


@dataclass
class ResourceDemandScheduler:
    """Ray's `ResourceDemandScheduler` over plain data: decides what to launch each update."""

    node_types: dict[str, dict[str, Any]]
    max_workers: int
    head_node_type: str
    upscaling_speed: float = 1.0
    scorer: Scorer = utilization_score
    _updated: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.node_types = copy.deepcopy(self.node_types)

    def is_feasible(self, bundle: Mapping[str, float]) -> bool:
        """Whether some launchable node type (or the head) could ever hold `bundle`."""
        for node_type, config in self.node_types.items():
            if (node_type == self.head_node_type or config.get("max_workers", 0) > 0) and fits(
                config["resources"], bundle
            ):
                return True
        return False

    def _update_from_runtime(self, nodes: Sequence[ClusterNode]) -> None:
        """Take CPU, GPU and memory of a type from a running node of it, as Ray does once a
        worker of that type reports (the head updates but does not settle it)."""
        if len(self.node_types) == len(self._updated):
            return
        for node in nodes:
            t = node.node_type
            if t in self._updated or t not in self.node_types or not node.static:
                continue
            resources = self.node_types[t].setdefault("resources", {})
            for key in ("CPU", "GPU", "memory"):
                if key in node.static:
                    resources[key] = node.static[key]
            if not node.is_head:
                self._updated.add(t)

    def get_nodes_to_launch(
        self,
        nodes: Sequence[ClusterNode],
        launching_nodes: Mapping[str, int],
        resource_demands: Sequence[Mapping[str, float]],
        pending_placement_groups: Sequence[PendingPlacementGroup],
        ensure_min_cluster_size: Sequence[Mapping[str, float]],
    ) -> tuple[dict[str, int], list[ResourceDict]]:
        """Node type -> count to launch now, and the demands no node type can serve."""
        self._update_from_runtime(nodes)
        node_types = self.node_types
        node_resources: list[ResourceDict] = []
        counts: dict[str, int] = defaultdict(int)
        for node in nodes:
            if node.node_type not in node_types:
                continue
            avail = node.available
            node_resources.append(
                dict(avail) if avail is not None else dict(node_types[node.node_type]["resources"])
            )
            counts[node.node_type] += 1
        for node_type, k in launching_nodes.items():
            for _ in range(k):
                if node_type in node_types:
                    node_resources.append(dict(node_types[node_type]["resources"]))
                    counts[node_type] += 1
        node_resources, counts, adjusted_min = add_min_workers_nodes(
            node_resources,
            counts,
            node_types,
            self.max_workers,
            self.head_node_type,
            ensure_min_cluster_size,
            self.scorer,
        )
        pg_vector, strict_spreads = placement_groups_to_resource_demands(pending_placement_groups)
        demands = pg_vector + list(resource_demands)
        spread_to_add, node_resources, counts = self._reserve_and_allocate_spread(
            strict_spreads, node_resources, counts
        )
        unfulfilled_pg, _ = get_bin_pack_residual(node_resources, pg_vector)
        max_to_add = self.max_workers + 1 - sum(counts.values())
        pg_nodes, _ = get_nodes_for(
            node_types, counts, self.head_node_type, max_to_add, unfulfilled_pg, self.scorer
        )
        pg_limit = {t: spread_to_add.get(t, 0) + pg_nodes.get(t, 0) for t in node_types}
        unfulfilled, _ = get_bin_pack_residual(node_resources, demands)
        demand_nodes, final_unfulfilled = get_nodes_for(
            node_types, counts, self.head_node_type, max_to_add, unfulfilled, self.scorer
        )
        total: dict[str, int] = {}
        for t in node_types:
            n = adjusted_min.get(t, 0) + spread_to_add.get(t, 0) + demand_nodes.get(t, 0)
            if n > 0:
                total[t] = n
        total = self._limit_concurrent(total, nodes, launching_nodes, adjusted_min, pg_limit)
        return total, final_unfulfilled

    def _reserve_and_allocate_spread(
        self,
        strict_spreads: list[list[ResourceDict]],
        node_resources: list[ResourceDict],
        counts: dict[str, int],
    ) -> tuple[dict[str, int], list[ResourceDict], dict[str, int]]:
        to_add: dict[str, int] = defaultdict(int)
        for bundles in strict_spreads:
            unfulfilled, updated = get_bin_pack_residual(
                node_resources, bundles, strict_spread=True
            )
            max_to_add = self.max_workers + 1 - sum(counts.values())
            to_launch, _ = get_nodes_for(
                self.node_types,
                counts,
                self.head_node_type,
                max_to_add,
                unfulfilled,
                self.scorer,
                strict_spread=True,
            )
            new_nodes: list[ResourceDict] = []
            for t, n in to_launch.items():
                new_nodes.extend(_fresh(self.node_types, t, n))
            unfulfilled, reserved = get_bin_pack_residual(
                new_nodes, unfulfilled, strict_spread=True
            )
            if unfulfilled:
                continue
            for t, n in to_launch.items():
                counts[t] += n
                to_add[t] += n
            node_resources = updated + reserved
        return to_add, node_resources, counts

    def _limit_concurrent(
        self,
        to_launch: dict[str, int],
        nodes: Sequence[ClusterNode],
        launching: Mapping[str, int],
        adjusted_min: Mapping[str, int],
        pg_limit: Mapping[str, int],
    ) -> dict[str, int]:
        """At most max(5, upscaling_speed * running) nodes of a type in flight; nodes for
        min_workers, request_resources and placement groups bypass the limit."""
        running: dict[str, int] = defaultdict(int)
        pending: dict[str, int] = defaultdict(int)
        for node in nodes:
            if node.available is not None:
                running[node.node_type] += 1
            else:
                pending[node.node_type] += 1
        out: dict[str, int] = {}
        for t in to_launch:
            max_pending = max(
                UPSCALING_INITIAL_NUM_NODES, int(self.upscaling_speed * max(running[t], 1))
            )
            upper = max(
                max_pending - (launching.get(t, 0) + pending[t]),
                adjusted_min.get(t, 0) + pg_limit.get(t, 0),
            )
            if upper > 0:
                out[t] = min(upper, to_launch[t])
        return out


@dataclass
class WorkerState:
    """A worker for the scale-down decision: its type and when it was last used (None: it has
    not connected yet)."""

    node_id: Any
    node_type: str
    last_used: float | None


def nodes_needed_for_requests(
    node_types: NodeTypes,
    head_node_type: str,
    sorted_workers: Sequence[WorkerState],
    resource_requests: Sequence[Mapping[str, float]],
    pending_placement_groups: Sequence[PendingPlacementGroup],
) -> set[Any]:
    """Workers that `request_resources` and pending placement groups need (kept when idle):
    the requests are packed onto the head then the workers, most recently used first."""
    demands, spreads = placement_groups_to_resource_demands(pending_placement_groups)
    demands.extend(dict(r) for r in resource_requests)
    if not demands and not spreads:
        return set()
    totals = [dict(node_types[head_node_type]["resources"])]
    ids = []
    for w in sorted_workers:
        if w.node_type in node_types:
            totals.append(dict(node_types[w.node_type]["resources"]))
            ids.append(w.node_id)
    remaining = [dict(t) for t in totals]
    for spread in spreads:
        unfulfilled, updated = get_bin_pack_residual(remaining, spread, strict_spread=True)
        if not unfulfilled:
            remaining = updated
    _, remaining = get_bin_pack_residual(remaining, demands)
    return {ids[i - 1] for i in range(1, len(totals)) if remaining[i] != totals[i]}


def nodes_to_terminate(
    node_types: NodeTypes,
    head_node_type: str,
    max_workers: int,
    idle_timeout_s: float,
    now: float,
    workers: Sequence[WorkerState],
    resource_requests: Sequence[Mapping[str, float]] = (),
    pending_placement_groups: Sequence[PendingPlacementGroup] = (),
) -> list[tuple[Any, str]]:
    """Ray's `terminate_nodes_to_enforce_config_constraints`: (node id, reason) to terminate.

    Workers are visited most recently used first; min_workers are kept, those past a type's
    max_workers go, nodes needed by requests are kept, then nodes idle past the timeout go,
    and finally the least recently used of the rest go while over the global max_workers.
    """
    cutoff = now - idle_timeout_s
    ordered = sorted(
        workers, key=lambda w: -1 if w.last_used is None else w.last_used, reverse=True
    )
    protected = nodes_needed_for_requests(
        node_types, head_node_type, ordered, resource_requests, pending_placement_groups
    )
    kept: dict[str, int] = defaultdict(int)
    out: list[tuple[Any, str]] = []
    could: list[Any] = []
    for w in ordered:
        t = w.node_type
        if t not in node_types:
            out.append((w.node_id, f"not in available_node_types: {list(node_types)}"))
            continue
        config = node_types[t]
        new_count = kept[t] + 1
        if new_count <= min(config.get("min_workers", 0), config.get("max_workers", 0)):
            kept[t] += 1
            continue
        if new_count > config.get("max_workers", 0):
            out.append((w.node_id, "max_workers_per_type"))
            continue
        if w.node_id in protected:
            kept[t] += 1
            continue
        if w.last_used is not None and w.last_used < cutoff:
            out.append((w.node_id, "idle"))
        else:
            kept[t] += 1
            could.append(w.node_id)
    extra = len(workers) - len(out) - max_workers
    extra = min(extra, len(could))
    if extra > 0:
        out.extend((n, "max workers") for n in could[-extra:])
    return out


def infeasible_message(request: Mapping[str, float]) -> str:
    """Ray's autoscaler error for a request no node type can serve (`_report_pending_infeasible`)."""
    return (
        f"Error: No available node types can fulfill resource request {dict(request)}. "
        "Add suitable node types to this cluster to resolve this issue."
    )
