"""The hybrid policy stops scanning once its top k are known: same choice, same RNG draws as
the full scan and sort that Ray's policy describes (written out here as the reference)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from simray._model import placement
from simray._model.resources import UNIT, NodeResources


class Node:
    def __init__(self, node_id: str, total: dict[str, int], used: dict[str, int]):
        self.node_id = node_id
        self.resources = NodeResources(total)
        for key, units in used.items():
            self.resources.available[key] -= units


def reference_hybrid(nodes, demand, rng, preferred, require_available, cluster_size):
    """The policy as one full pass: every fitting node scored, a stable sort, top k."""
    available = []
    feasible = False
    for node in nodes:
        res = node.resources
        if res.fits(demand):
            score = res.critical_utilization()
            available.append((0.0 if score < placement.SPREAD_THRESHOLD else score, node))
        elif res.feasible(demand):
            feasible = True
    if not available:
        return placement.WAIT if feasible or require_available else placement.INFEASIBLE
    if len(available) == 1:
        return available[0][1]
    available.sort(key=lambda pair: pair[0])
    best = available[0][0]
    if preferred is not None:
        for score, node in available:
            if node is preferred and score <= best:
                return node
    k = max(placement.TOP_K_ABSOLUTE, int(cluster_size * placement.TOP_K_FRACTION))
    top = available[:k]
    return top[0][1] if len(top) == 1 else top[rng.randrange(len(top))][1]


@st.composite
def clusters(draw):
    count = draw(st.integers(1, 40))
    nodes = []
    for i in range(count):
        cpus = draw(st.integers(1, 16))
        used = draw(st.integers(0, cpus))
        total = {"CPU": cpus * UNIT, "memory": 8 * UNIT, "object_store_memory": 4 * UNIT}
        nodes.append(Node(f"{i:04d}", total, {"CPU": used * UNIT}))
    need = draw(st.integers(0, 4))
    preferred = draw(st.none() | st.sampled_from(nodes))
    return nodes, {"CPU": need * UNIT}, preferred


@settings(max_examples=300, deadline=None)
@given(clusters(), st.integers(0, 2**32), st.booleans(), st.integers(1, 60))
def test_early_stop_matches_the_full_scan(cluster, seed, require_available, extra):
    nodes, demand, preferred = cluster
    size = len(nodes) + extra % 3 * 10  # k counts the whole cluster, sometimes more than `nodes`
    ours, theirs = random.Random(seed), random.Random(seed)
    got = placement._hybrid_impl(nodes, demand, ours, preferred, require_available, size)
    want = reference_hybrid(nodes, demand, theirs, preferred, require_available, size)
    assert got is want
    assert ours.getstate() == theirs.getstate()  # the same draws, so later choices agree too
