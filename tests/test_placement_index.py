"""The scheduler's indexed hybrid choice is the plain scan's choice: same node, same RNG draws.

`Scheduler` answers the hybrid policy from `HybridIndex`, updated as nodes' resources change;
`placement.hybrid` scores and sorts every node each time and is the reference here. Clusters,
their use and the demands are drawn so that scores tie often (small whole totals), some nodes
have GPUs or no CPUs, and resources change between choices by allocate, release, the CPU a
blocked task lends back, and nodes leaving.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from simray._model import placement
from simray._model.resources import UNIT
from simray._sim.scheduler import Scheduler, SimNode

KEYS = ("CPU", "GPU", "memory", "custom")


def totals():
    return st.fixed_dictionaries(
        {
            "CPU": st.sampled_from([0, 2, 4, 4, 8, 8]),
            "GPU": st.sampled_from([0, 0, 0, 1, 2]),
            "memory": st.sampled_from([4, 4, 8]),
            "custom": st.sampled_from([0, 0, 1, 3]),
        }
    ).map(
        lambda t: {
            **{k: v * UNIT for k, v in t.items() if v},
            "object_store_memory": 2 * UNIT,
        }
    )


def demands():
    """Mostly CPU alone (the indexed fast path), with empty, fractional and mixed demands."""
    cpu_only = st.integers(1, 6).map(lambda c: {"CPU": c * UNIT // 2})
    mixed = st.fixed_dictionaries(
        {},
        optional={
            "CPU": st.integers(1, 4).map(lambda c: c * UNIT),
            "GPU": st.sampled_from([UNIT // 2, UNIT, 2 * UNIT]),
            "memory": st.integers(1, 2).map(lambda m: m * UNIT),
            "custom": st.just(UNIT),
        },
    )
    return st.one_of(cpu_only, cpu_only, st.just({}), mixed)


steps = st.one_of(
    st.tuples(st.just("choose"), demands(), st.integers(0, 60)),
    st.tuples(st.just("place"), demands(), st.integers(0, 60)),
    st.tuples(st.just("place"), demands(), st.integers(0, 60)),
    st.tuples(st.just("allocate"), demands(), st.integers(0, 60)),
    st.tuples(st.just("release"), st.integers(0, 60)),
    st.tuples(st.just("lend"), st.integers(0, 60)),
    st.tuples(st.just("remove"), st.integers(0, 60)),
)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30).flatmap(lambda n: st.lists(totals(), min_size=n, max_size=n)),
    st.lists(steps, min_size=10, max_size=80),
    st.integers(0, 2**32),
)
def test_indexed_hybrid_matches_the_plain_scan(node_totals, script, seed):
    ours, theirs = random.Random(seed), random.Random(seed)
    sched = Scheduler(ours, lambda task, node: None)
    for i, total in enumerate(node_totals):
        sched.add_node(SimNode(i, total, {}, i == 0))
    held: list[tuple[SimNode, dict[str, int], object]] = []
    lent: list[tuple[SimNode, int]] = []
    for step in script:
        nodes = sched.nodes
        if not nodes:
            break
        kind = step[0]
        if kind in ("choose", "place"):
            _, demand, pick = step
            # Ray prefers the submitter's node: often one just placed on, so a busy one.
            if pick % 3 == 0:
                preferred = None
            elif pick % 3 == 1 and held:
                preferred = held[-1][0]
            else:
                preferred = sched.all_nodes[pick % len(sched.all_nodes)]
            want = placement.hybrid(nodes, demand, theirs, preferred, sched.cpu_nodes)
            got = sched._hybrid(demand, preferred)
            assert got is want, (demand, preferred)
            assert ours.getstate() == theirs.getstate()  # the same draws: later choices agree
            if kind == "place" and isinstance(got, SimNode):  # as the scheduler then does
                held.append((got, demand, got.resources.allocate(demand)))
        elif kind == "allocate":
            _, demand, pick = step
            node = nodes[pick % len(nodes)]
            if node.resources.fits(demand):
                held.append((node, demand, node.resources.allocate(demand)))
        elif kind == "release" and held:
            node, demand, shares = held.pop(step[1] % len(held))
            node.resources.release(demand, shares)
        elif kind == "lend" and held:
            # A task blocked in get lends its CPU back; resuming takes it again.
            node, demand, _ = held[step[1] % len(held)]
            if lent:
                lent_node, units = lent.pop()
                lent_node.resources.shift_cpu(-units)
            elif demand.get("CPU"):
                node.resources.shift_cpu(demand["CPU"])
                lent.append((node, demand["CPU"]))
        elif kind == "remove" and len(nodes) > 1:
            gone = nodes[step[1] % len(nodes)]
            sched.remove_node(gone)
            held = [h for h in held if h[0] is not gone]
            lent = [h for h in lent if h[0] is not gone]


def test_a_placement_scores_only_the_nodes_that_changed(monkeypatch):
    """On 1,000 nodes, each placement of a CPU-only demand re-scores the one node the last
    placement changed, not every node (what made 10,000 actors take seconds)."""
    from simray._model.resources import NodeResources

    sched = Scheduler(random.Random(0), lambda task, node: None)
    for i in range(1000):
        total = {"CPU": 16 * UNIT, "memory": 4 * UNIT, "object_store_memory": 2 * UNIT}
        sched.add_node(SimNode(i, total, {}, i == 0))
    calls = {"score": 0, "fits": 0}
    score, fits = NodeResources.critical_utilization, NodeResources.fits

    def counted_score(self):
        calls["score"] += 1
        return score(self)

    def counted_fits(self, demand):
        calls["fits"] += 1
        return fits(self, demand)

    monkeypatch.setattr(NodeResources, "critical_utilization", counted_score)
    monkeypatch.setattr(NodeResources, "fits", counted_fits)
    demand = {"CPU": UNIT}
    sched._hybrid(demand, None).resources.allocate(demand)  # builds the index: 1,000 scores
    calls["score"] = calls["fits"] = 0
    for _ in range(5000):
        sched._hybrid(demand, None).resources.allocate(demand)
    assert calls["score"] <= 5000  # one re-ranked node per placement
    assert calls["fits"] == 0  # free CPU is indexed: no node is asked
