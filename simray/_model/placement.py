"""Ray's placement policies as pure functions: hybrid (DEFAULT), SPREAD and node affinity.

Each policy sees the alive nodes in id order and a demand, and answers a node, `WAIT` (feasible
somewhere, nothing free now) or `INFEASIBLE` (no node could ever run it). Randomness comes only
from the `random.Random` passed in, so the caller decides determinism.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Protocol

from simray._model.resources import NodeResources

SPREAD_THRESHOLD = 0.5  # scheduler_spread_threshold
TOP_K_FRACTION = 0.2  # scheduler_top_k_fraction
TOP_K_ABSOLUTE = 1  # scheduler_top_k_absolute


class PlacementNode(Protocol):
    node_id: str
    resources: NodeResources


class _Outcome:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


WAIT = _Outcome("WAIT")
INFEASIBLE = _Outcome("INFEASIBLE")


def hybrid(
    nodes: Sequence[PlacementNode],
    demand: Mapping[str, int],
    rng: random.Random,
    preferred: PlacementNode | None,
    cpu_nodes: Sequence[PlacementNode] | None = None,
) -> PlacementNode | _Outcome:
    """Ray's hybrid policy: pack on the preferred node below 50% use, else top-k least used.

    CPU-only work first tries nodes without GPUs (`avoid_gpu_nodes`), as the raylet does;
    `cpu_nodes`, if the caller keeps it, is that subset of `nodes` (else it is computed).
    """
    if "GPU" not in demand:
        if cpu_nodes is None:
            cpu_nodes = [n for n in nodes if "GPU" not in n.resources.total]
        if len(cpu_nodes) < len(nodes):
            choice = _hybrid_impl(cpu_nodes, demand, rng, preferred, True, len(nodes))
            if not isinstance(choice, _Outcome):
                return choice
    return _hybrid_impl(nodes, demand, rng, preferred, False, len(nodes))


def _hybrid_impl(
    nodes: Sequence[PlacementNode],
    demand: Mapping[str, int],
    rng: random.Random,
    preferred: PlacementNode | None,
    require_available: bool,
    cluster_size: int,
) -> PlacementNode | _Outcome:
    """One pass of the policy over `nodes`; k of the top-k choice counts the whole cluster."""
    k = max(TOP_K_ABSOLUTE, int(cluster_size * TOP_K_FRACTION))
    available: list[tuple[float, PlacementNode]] = []
    below: list[PlacementNode] = []  # nodes that fit and are under the spread threshold
    feasible = False
    for node in nodes:
        res = node.resources
        if res.fits(demand):
            score = res.critical_utilization()
            if score < SPREAD_THRESHOLD:
                below.append(node)
                if len(below) == k:
                    # The stable sort below would put exactly these k first (score 0, id
                    # order), so the rest of the scan cannot change the choice: stop here.
                    return _choose_below(below, nodes, demand, rng, preferred)
                available.append((0.0, node))
            else:
                available.append((score, node))
        elif res.feasible(demand):
            feasible = True
    if not available:
        if feasible or require_available:
            return WAIT
        return INFEASIBLE
    if len(available) == 1:
        return available[0][1]
    # Nodes arrive in id order; a stable sort by score keeps that order among equals.
    available.sort(key=lambda pair: pair[0])
    best_score = available[0][0]
    if preferred is not None:
        for score, node in available:
            if node is preferred and score <= best_score:
                return node
    top = available[:k]
    return top[0][1] if len(top) == 1 else top[rng.randrange(len(top))][1]


def _choose_below(
    below: list[PlacementNode],
    nodes: Sequence[PlacementNode],
    demand: Mapping[str, int],
    rng: random.Random,
    preferred: PlacementNode | None,
) -> PlacementNode:
    """The end of `_hybrid_impl` when its first k fitting nodes under the threshold are known:
    the preferred node if it fits under the threshold, else one of the k at random."""
    if preferred is not None and preferred in nodes:
        res = preferred.resources
        if res.fits(demand) and res.critical_utilization() < SPREAD_THRESHOLD:
            return preferred
    return below[0] if len(below) == 1 else below[rng.randrange(len(below))]


class SpreadCursor:
    """Ray's SPREAD policy: round-robin over nodes by id from a persistent index."""

    __slots__ = ("next_index",)

    def __init__(self) -> None:
        self.next_index = 0

    def choose(
        self, nodes: Sequence[PlacementNode], demand: Mapping[str, int], rng: random.Random
    ) -> PlacementNode | _Outcome:
        n = len(nodes)
        for step in range(n):
            i = (self.next_index + step) % n
            if nodes[i].resources.fits(demand):
                self.next_index = (i + 1) % n
                return nodes[i]
        return hybrid(nodes, demand, rng, None)


def node_affinity(
    nodes: Sequence[PlacementNode],
    demand: Mapping[str, int],
    rng: random.Random,
    node_id: str,
    soft: bool,
    spill_on_unavailable: bool,
) -> PlacementNode | _Outcome | None:
    """NodeAffinitySchedulingStrategy; None means "hard affinity to a missing/infeasible node"."""
    target = next((n for n in nodes if n.node_id == node_id), None)
    if target is not None and target.resources.feasible(demand):
        if target.resources.fits(demand):
            return target
        if not (soft and spill_on_unavailable):
            return WAIT
    elif not soft:
        return None
    return hybrid(nodes, demand, rng, None)


class _Scratch:
    """A copy of a node's free resources to try placements on without touching the node."""

    def __init__(self, res: NodeResources, empty: bool):
        self.res = NodeResources(res.total)
        if not empty:
            self.res.available = dict(res.available)
            self.res.gpu_free = list(res.gpu_free)


def place_bundles(
    nodes: Sequence[PlacementNode], bundles: Sequence[Mapping[str, int]], strategy: str, empty: bool
) -> list[PlacementNode] | None:
    """Nodes for each bundle of a placement group under `strategy`, or None if they do not fit.

    `empty=True` asks whether they could ever fit (on an idle cluster). Nodes are tried in id
    order, first fit: PACK and STRICT_PACK try one node for all bundles first; STRICT_SPREAD
    needs a distinct node per bundle; SPREAD prefers distinct nodes and falls back to reuse.
    """
    made: dict[int, _Scratch] = {}

    def scratch_of(node: PlacementNode) -> _Scratch:
        s = made.get(id(node))
        if s is None:
            s = made[id(node)] = _Scratch(node.resources, empty)
        return s

    def fits(node: PlacementNode, bundle: Mapping[str, int]) -> bool:
        if not empty and id(node) not in made:
            return node.resources.fits(bundle)  # untouched: its own free resources decide
        return scratch_of(node).res.fits(bundle)

    def take(node: PlacementNode, bundle: Mapping[str, int]) -> None:
        scratch_of(node).res.allocate(bundle)

    if strategy in ("PACK", "STRICT_PACK"):
        for node in nodes:
            trial = _Scratch(scratch_of(node).res, empty=False)
            if all(trial.res.fits(b) and (trial.res.allocate(b) or True) for b in bundles):
                return [node] * len(bundles)
        if strategy == "STRICT_PACK":
            return None
    chosen: list[PlacementNode] = []
    placed: list[PlacementNode | None] = [None] * len(bundles)
    # The GCS places the largest bundles first (BundleSchedulingPolicy::SortRequiredResources),
    # so a big bundle is not left without a node after small ones took the big nodes.
    order = sorted(
        range(len(bundles)),
        key=lambda i: (
            bundles[i].get("GPU", 0),
            bundles[i].get("CPU", 0),
            bundles[i].get("memory", 0),
            sum(bundles[i].values()),
        ),
        reverse=True,
    )
    for i in order:
        bundle = bundles[i]
        spread = strategy in ("SPREAD", "STRICT_SPREAD")
        candidates = (
            [n for n in nodes if n not in chosen]
            if spread
            else list(chosen) + [n for n in nodes if n not in chosen]
        )
        if strategy == "SPREAD":
            candidates += [n for n in nodes if n in chosen]
        node = next((n for n in candidates if fits(n, bundle)), None)
        if node is None:
            return None
        take(node, bundle)
        chosen.append(node)
        placed[i] = node
    return placed  # type: ignore[return-value]
