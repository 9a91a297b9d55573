"""The hybrid policy's ranking of nodes, kept up to date instead of recomputed per placement.

`placement.hybrid` scores every node and sorts them for each task: O(nodes) per placement, so
10,000 actors on 1,000 nodes cost seconds. `HybridIndex` holds the same ranking (nodes under
the spread threshold in id order, then the others by utilisation, ties in id order), updated
when a node's resources change, and answers exactly what `placement._hybrid_impl` answers:
the same node and the same RNG draws. `tests/test_placement_index.py` checks that against
the plain scan on drawn clusters and demands.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simray._model import placement
from simray._model.placement import INFEASIBLE, SPREAD_THRESHOLD, WAIT, PlacementNode
from simray._model.resources import NodeResources


class HybridIndex:
    """One pass of the hybrid policy (all nodes, or the GPU-free ones) over indexed nodes.

    Ranks are positions in id order. `below` holds the ranks under the spread threshold,
    ascending; `above` holds `(utilisation, rank)` of the others, ascending: together, in that
    order, they are the policy's stable sort by score. `by_cpu` holds `(free CPU, rank)` of every
    node, ascending, so that for a CPU-only demand the nodes that do not fit are a prefix of it.
    """

    def __init__(self, nodes: Sequence[PlacementNode]):
        self.nodes = list(nodes)
        self.rank: dict[NodeResources, int] = {n.resources: i for i, n in enumerate(nodes)}
        self.score = [n.resources.critical_utilization() for n in nodes]
        self.cpu = [n.resources.available.get("CPU", 0) for n in nodes]
        self.below = [i for i, s in enumerate(self.score) if s < SPREAD_THRESHOLD]
        self.above = sorted((s, i) for i, s in enumerate(self.score) if s >= SPREAD_THRESHOLD)
        self.by_cpu = sorted((c, i) for i, c in enumerate(self.cpu))

    def update(self, res: NodeResources) -> None:
        """Re-rank the node whose resources are `res` after they changed."""
        rank = self.rank.get(res)
        if rank is None:
            return
        score = res.critical_utilization()
        old = self.score[rank]
        if score != old:
            if old < SPREAD_THRESHOLD:
                del self.below[bisect_left(self.below, rank)]
            else:
                del self.above[bisect_left(self.above, (old, rank))]
            if score < SPREAD_THRESHOLD:
                insort(self.below, rank)
            else:
                insort(self.above, (score, rank))
            self.score[rank] = score
        cpu = res.available.get("CPU", 0)
        old_cpu = self.cpu[rank]
        if cpu != old_cpu:
            del self.by_cpu[bisect_left(self.by_cpu, (old_cpu, rank))]
            insort(self.by_cpu, (cpu, rank))
            self.cpu[rank] = cpu

    def _position(self, rank: int) -> int:
        """Where the node of `rank` stands in the policy's order (below, then above)."""
        score = self.score[rank]
        if score < SPREAD_THRESHOLD:
            return bisect_left(self.below, rank)
        return len(self.below) + bisect_left(self.above, (score, rank))

    def _at(self, position: int) -> int:
        """The rank at `position` of the policy's order."""
        nb = len(self.below)
        return self.below[position] if position < nb else self.above[position - nb][1]

    def _effective(self, rank: int) -> float:
        """The score the policy sorts by: 0 under the spread threshold."""
        score = self.score[rank]
        return 0.0 if score < SPREAD_THRESHOLD else score

    def choose(
        self,
        demand: Mapping[str, int],
        rng: random.Random,
        preferred: PlacementNode | None,
        require_available: bool,
        cluster_size: int,
    ) -> Any:
        """What `placement._hybrid_impl(nodes, ...)` answers for these nodes, as it is now."""
        k = max(placement.TOP_K_ABSOLUTE, int(cluster_size * placement.TOP_K_FRACTION))
        if not demand:
            count, pick = min(k, len(self.nodes)), self._at  # an empty demand fits everywhere
        elif len(demand) == 1 and "CPU" in demand:
            count, pick = self._top_cpu_only(demand["CPU"], k)
        else:
            count, pick = self._top_any(demand, k)
        if count == 0:
            if require_available or any(n.resources.feasible(demand) for n in self.nodes):
                return WAIT
            return INFEASIBLE
        if preferred is not None:
            rank = self.rank.get(preferred.resources)
            if (
                rank is not None
                and preferred.resources.fits(demand)
                and self._effective(rank) <= self._effective(pick(0))
            ):
                return preferred
        if count == 1:
            return self.nodes[pick(0)]
        return self.nodes[pick(rng.randrange(count))]

    def _top_cpu_only(self, units: int, k: int) -> tuple[int, Callable[[int], int]]:
        """How many of the top k a demand of CPU alone has, and the rank of the j-th: the nodes
        with less free CPU than `units` are a prefix of `by_cpu`, so the fitting ones are
        found by skipping those, or by taking the others when they are fewer."""
        by_cpu = self.by_cpu
        unfit = bisect_left(by_cpu, (units, -1))
        fit = len(by_cpu) - unfit
        if unfit == 0:
            return min(k, fit), self._at
        if unfit <= fit:
            # The j-th fitting node is the j-th of the order shifted past each skipped position
            # at or before it.
            skipped = sorted(self._position(rank) for _, rank in by_cpu[:unfit])

            def pick(j: int) -> int:
                for position in skipped:
                    if position <= j:
                        j += 1
                    else:
                        break
                return self._at(j)

            return min(k, fit), pick
        taken = sorted(self._position(rank) for _, rank in by_cpu[unfit:])[:k]
        return len(taken), lambda j: self._at(taken[j])

    def _top_any(self, demand: Mapping[str, int], k: int) -> tuple[int, Callable[[int], int]]:
        """The top k for any demand: walk the order, checking each node, until k fit."""
        nodes = self.nodes
        top: list[int] = []
        for rank in self.below:
            if nodes[rank].resources.fits(demand):
                top.append(rank)
                if len(top) == k:
                    break
        else:
            for _, rank in self.above:
                if nodes[rank].resources.fits(demand):
                    top.append(rank)
                    if len(top) == k:
                        break
        return len(top), top.__getitem__
