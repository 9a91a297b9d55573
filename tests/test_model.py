"""Tests of the pure model layer: fixed-point resources, node capacity with GPU instances, and
Ray's placement policies (hybrid / SPREAD / node affinity) as pure functions.

Ray's behaviour these follow: `RAY/_common/ray_option_utils.py` (`_validate_resource_quantity`),
`RAY/_common/utils.py` (`resources_from_ray_options`), and the raylet's
`resource_instance_set.cc` (`TryAllocate`), `hybrid_scheduling_policy.cc`,
`spread_scheduling_policy.cc`, `node_affinity_scheduling_policy.cc`.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simray._model import placement
from simray._model.placement import INFEASIBLE, WAIT, SpreadCursor, hybrid, node_affinity
from simray._model.resources import (
    ACCELERATOR_DEMAND,
    UNIT,
    NodeResources,
    demand_from_options,
    format_demand,
    to_float,
    to_units,
)

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- helpers -------------------------------------------------------------------------------------


class Node:
    """The smallest thing the placement policies accept: an id and a NodeResources."""

    def __init__(self, node_id: str, total: dict[str, int]):
        self.node_id = node_id
        self.resources = NodeResources(total)

    def __repr__(self) -> str:
        return f"Node({self.node_id})"


def units(**quantities: float) -> dict[str, int]:
    return {k: round(v * UNIT) for k, v in quantities.items()}


def cluster(*totals: dict[str, int]) -> list[Node]:
    """Nodes in id order (n00, n01, ...), as the policies expect them."""
    return [Node(f"n{i:02d}", t) for i, t in enumerate(totals)]


def cpu_node_totals(n: int, cpus: float = 4) -> list[dict[str, int]]:
    return [units(CPU=cpus) for _ in range(n)]


def place(nodes, demand, rng, preferred=None):
    """hybrid() then allocate on the chosen node; returns the node index or the outcome."""
    choice = hybrid(nodes, demand, rng, preferred)
    if choice is WAIT or choice is INFEASIBLE:
        return choice
    choice.resources.allocate(demand)
    return nodes.index(choice)


# -- to_units / to_float -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(0, 0), (1, UNIT), (2, 2 * UNIT), (0.5, 5000), (0.25, 2500), (0.0001, 1), (2.5, 25000)],
)
def test_to_units_fixed_point(quantity, expected):
    assert to_units("num_cpus", quantity) == expected


def test_to_units_fractions_add_up_exactly():
    # 0.1 + 0.2 != 0.3 in floats, but in Ray's fixed point ten 0.1 GPUs make exactly one.
    assert sum(to_units("num_gpus", 0.1) for _ in range(10)) == UNIT
    assert to_units("x", 0.1) + to_units("x", 0.2) == to_units("x", 0.3)


def test_to_float_round_trip():
    assert to_float(5000) == 0.5
    assert to_float(to_units("GPU", 0.0001)) == 0.0001
    assert to_float(UNIT) == 1.0


@pytest.mark.parametrize("name", ["num_cpus", "num_gpus", "custom_thing"])
def test_to_units_negative_has_rays_message(name):
    with pytest.raises(ValueError, match=rf"^The quantity of resource {name} cannot be negative$"):
        to_units(name, -1)


def test_to_units_negative_fraction_is_reported_as_negative():
    # Ray checks the sign first: -0.00001 is "negative", not "too precise".
    with pytest.raises(ValueError, match=r"^The quantity of resource num_cpus cannot be negative$"):
        to_units("num_cpus", -0.00001)


@pytest.mark.parametrize("quantity", [0.00001, 0.00009, 1e-9])
def test_to_units_too_precise_has_rays_message(quantity):
    with pytest.raises(
        ValueError,
        match=r"^The precision of the fractional quantity of resource num_gpus cannot go beyond "
        r"0\.0001$",
    ):
        to_units("num_gpus", quantity)


# -- demand_from_options -------------------------------------------------------------------------


def test_demand_default_is_one_cpu():
    assert demand_from_options(None, None, None, None, None, default_cpus=1) == {"CPU": UNIT}


def test_demand_zero_cpus_is_dropped():
    assert demand_from_options(0, None, None, None, None, default_cpus=1) == {}


def test_demand_cpus_gpus_and_custom():
    demand = demand_from_options(2, 0.5, {"custom": 3, "unused": 0}, None, None, default_cpus=1)
    assert demand == {"CPU": 2 * UNIT, "GPU": 5000, "custom": 3 * UNIT}


def test_demand_memory_is_truncated_to_int_as_ray_does():
    # resources_from_ray_options: resources["memory"] = int(memory)
    demand = demand_from_options(1, None, None, 100.9, None, default_cpus=1)
    assert demand["memory"] == 100 * UNIT


def test_demand_accelerator_type_adds_one_thousandth():
    demand = demand_from_options(None, 1, None, None, "A100", default_cpus=1)
    # Ray: get_assigned_resources() == {'GPU': 1.0, 'CPU': 1.0, 'accelerator_type:A100': 0.001}
    assert demand == {"CPU": UNIT, "GPU": UNIT, "accelerator_type:A100": 10}
    assert ACCELERATOR_DEMAND == 10
    assert to_float(demand["accelerator_type:A100"]) == 0.001


def test_demand_accelerator_type_without_gpus():
    demand = demand_from_options(0, None, None, None, "H100", default_cpus=1)
    assert demand == {"accelerator_type:H100": 10}


def test_demand_errors_name_the_option():
    with pytest.raises(ValueError, match=r"^The quantity of resource num_gpus cannot be negative$"):
        demand_from_options(1, -1, None, None, None, default_cpus=1)
    with pytest.raises(
        ValueError,
        match=r"^The precision of the fractional quantity of resource custom cannot go beyond",
    ):
        demand_from_options(1, None, {"custom": 0.00001}, None, None, default_cpus=1)


def test_format_demand_like_ray():
    assert format_demand({"CPU": UNIT, "GPU": 5000}) == "{'CPU': 1.0, 'GPU': 0.5}"


# -- NodeResources: plain resources --------------------------------------------------------------


def test_fits_and_feasible_cpu():
    node = NodeResources(units(CPU=4))
    assert node.fits(units(CPU=4))
    assert not node.fits(units(CPU=5))
    assert node.feasible(units(CPU=4))
    assert not node.feasible(units(CPU=5))
    node.allocate(units(CPU=3))
    assert node.fits(units(CPU=1))
    assert not node.fits(units(CPU=2))
    assert node.feasible(units(CPU=2))  # feasible looks at totals only


def test_missing_resource_is_infeasible():
    node = NodeResources(units(CPU=4))
    assert not node.feasible({"custom": 1})
    assert not node.fits({"custom": 1})
    assert not node.feasible({"accelerator_type:A100": ACCELERATOR_DEMAND})


def test_empty_demand_fits_anywhere():
    node = NodeResources({})
    assert node.fits({})
    assert node.feasible({})


def test_allocate_without_gpu_returns_no_shares_and_release_restores():
    node = NodeResources(units(CPU=4, custom=2))
    shares = node.allocate(units(CPU=1.5, custom=1))
    assert list(shares) == []  # no GPU instances taken (a shared empty tuple)
    assert node.available == units(CPU=2.5, custom=1)
    node.release(units(CPU=1.5, custom=1), shares)
    assert node.available == node.total


def test_critical_utilization_ignores_gpu():
    node = NodeResources(units(CPU=4, GPU=2, memory=100, object_store_memory=100))
    node.allocate(units(GPU=2))
    assert node.critical_utilization() == 0.0
    node.allocate(units(CPU=1))
    assert node.critical_utilization() == pytest.approx(0.25)
    node.allocate(units(memory=60))
    assert node.critical_utilization() == pytest.approx(0.6)


# -- NodeResources: GPU instances ----------------------------------------------------------------


def test_gpu_instances_created_per_whole_gpu():
    assert NodeResources(units(CPU=1, GPU=3)).gpu_free == [UNIT] * 3
    assert NodeResources(units(CPU=1)).gpu_free == []


def test_two_halves_share_one_gpu():
    node = NodeResources(units(GPU=2))
    assert node.allocate(units(GPU=0.5)) == [(0, 5000)]
    # best fit: instance 0 has exactly 0.5 left, instance 1 a whole GPU
    assert node.allocate(units(GPU=0.5)) == [(0, 5000)]
    assert node.gpu_free == [0, UNIT]


def test_fractional_request_takes_best_fit_instance():
    node = NodeResources(units(GPU=3))
    half = node.allocate(units(GPU=0.5))  # [5000, 10000, 10000]
    whole = node.allocate(units(GPU=1))  # [5000, 0, 10000]
    assert whole == [(1, UNIT)]
    assert node.allocate(units(GPU=0.8)) == [(2, 8000)]  # only instance 2 has room
    node.release(units(GPU=1), whole)
    assert node.gpu_free == [5000, UNIT, 2000]
    # 0.2: instance 2 (0.2 free) is the tightest fit
    assert node.allocate(units(GPU=0.2)) == [(2, 2000)]
    # 0.4: instance 0 (0.5 free) is tighter than instance 1 (1.0 free)
    assert node.allocate(units(GPU=0.4)) == [(0, 4000)]
    assert node.gpu_free == [1000, UNIT, 0]
    assert half == [(0, 5000)]


def test_fractional_ties_go_to_lowest_id():
    node = NodeResources(units(GPU=4))
    assert node.allocate(units(GPU=0.3)) == [(0, 3000)]
    assert node.allocate(units(GPU=1)) == [(1, UNIT)]
    assert node.allocate(units(GPU=0.3)) == [(0, 3000)]


def test_whole_requests_take_free_instances_lowest_id_first():
    node = NodeResources(units(GPU=4))
    node.allocate(units(GPU=0.5))  # instance 0 is partly used
    assert node.allocate(units(GPU=2)) == [(1, UNIT), (2, UNIT)]
    assert node.allocate(units(GPU=1)) == [(3, UNIT)]
    assert node.gpu_free == [5000, 0, 0, 0]
    assert not node.fits(units(GPU=1))
    assert node.fits(units(GPU=0.5))
    assert node.available["GPU"] == 5000


def test_whole_request_skips_partly_used_instance_in_the_middle():
    node = NodeResources(units(GPU=3))
    a = node.allocate(units(GPU=1))  # instance 0
    node.allocate(units(GPU=0.5))  # best fit among [0, 1, 1] -> instance 1
    node.release(units(GPU=1), a)  # [1, 0.5, 1]
    assert node.gpu_free == [UNIT, 5000, UNIT]
    assert node.allocate(units(GPU=2)) == [(0, UNIT), (2, UNIT)]


def test_two_free_halves_on_different_gpus_cannot_serve_a_whole_gpu():
    node = NodeResources(units(CPU=4, GPU=2))
    a = node.allocate(units(GPU=0.5))  # [0.5, 1]
    b = node.allocate(units(GPU=1))  # [0.5, 0]
    c = node.allocate(units(GPU=0.5))  # [0, 0]
    node.release(units(GPU=1), b)  # [0, 1]
    d = node.allocate(units(GPU=0.5))  # [0, 0.5]
    node.release(units(GPU=0.5), a)  # [0.5, 0.5]
    assert node.gpu_free == [5000, 5000]
    assert node.available["GPU"] == UNIT  # one GPU free in aggregate ...
    assert not node.fits(units(GPU=1))  # ... but no whole instance
    assert node.feasible(units(GPU=1))
    assert node.fits(units(GPU=0.5))
    # and the hybrid policy therefore has to wait
    nodes = [Node("n00", node.total)]
    nodes[0].resources = node
    assert hybrid(nodes, units(CPU=1, GPU=1), random.Random(0), None) is WAIT
    node.release(units(GPU=0.5), c)
    node.release(units(GPU=0.5), d)
    assert node.gpu_free == [UNIT, UNIT]
    assert node.fits(units(GPU=2))


def test_gpu_feasibility():
    node = NodeResources(units(CPU=2, GPU=2))
    assert node.feasible(units(GPU=2))
    assert not node.feasible(units(GPU=3))
    assert not NodeResources(units(CPU=2)).feasible(units(GPU=0.5))
    node.allocate(units(GPU=0.1))
    assert not node.fits(units(GPU=2))
    assert node.feasible(units(GPU=2))


# -- hybrid --------------------------------------------------------------------------------------


def test_hybrid_single_node():
    nodes = cluster(units(CPU=2))
    rng = random.Random(0)
    assert place(nodes, units(CPU=1), rng) == 0
    assert place(nodes, units(CPU=1), rng) == 0
    assert place(nodes, units(CPU=1), rng) is WAIT


def test_hybrid_packs_on_preferred_below_half_then_spreads():
    nodes = cluster(*cpu_node_totals(3))
    rng = random.Random(0)
    preferred = nodes[0]
    order = [place(nodes, units(CPU=1), rng, preferred) for _ in range(13)]
    # Preferred node until it reaches 50% (score >= spread threshold), then the least-used
    # node (k = 1 for 3 nodes, ties in id order); once all are at the same score, the
    # preferred node again.
    assert order == [0, 0, 1, 1, 2, 2, 0, 1, 2, 0, 1, 2, WAIT]


def test_hybrid_prefers_preferred_even_when_others_idle():
    nodes = cluster(*cpu_node_totals(3))
    nodes[1].resources.allocate(units(CPU=1))  # 25%: score 0
    assert hybrid(nodes, units(CPU=1), random.Random(0), nodes[1]) is nodes[1]
    nodes[1].resources.allocate(units(CPU=1))  # 50%: score 0.5 > 0
    assert hybrid(nodes, units(CPU=1), random.Random(0), nodes[1]) is nodes[0]


def test_hybrid_unavailable_preferred_is_not_chosen():
    nodes = cluster(units(CPU=1), units(CPU=4))
    nodes[0].resources.allocate(units(CPU=1))
    assert hybrid(nodes, units(CPU=1), random.Random(0), nodes[0]) is nodes[1]


def test_hybrid_without_preferred_takes_least_utilized_in_id_order():
    nodes = cluster(*cpu_node_totals(3))
    nodes[0].resources.allocate(units(CPU=3))  # 75%
    nodes[1].resources.allocate(units(CPU=2))  # 50%
    assert hybrid(nodes, units(CPU=1), random.Random(0), None) is nodes[2]


def test_hybrid_memory_counts_as_critical():
    nodes = cluster(
        units(CPU=4, memory=100, object_store_memory=100),
        units(CPU=4, memory=100, object_store_memory=100),
    )
    nodes[0].resources.allocate(units(memory=80))
    assert hybrid(nodes, units(CPU=1), random.Random(0), nodes[0]) is nodes[1]


def test_hybrid_cpu_only_demand_avoids_gpu_nodes():
    nodes = cluster(units(CPU=4, GPU=1), units(CPU=4))
    rng = random.Random(0)
    # even though the GPU node is the preferred one and idle
    assert hybrid(nodes, units(CPU=1), rng, nodes[0]) is nodes[1]
    assert [place(nodes, units(CPU=1), rng, nodes[0]) for _ in range(4)] == [1, 1, 1, 1]
    # the CPU node is full: fall back to the GPU node
    assert place(nodes, units(CPU=1), rng, nodes[0]) == 0


def test_hybrid_gpu_demand_goes_to_gpu_node():
    nodes = cluster(units(CPU=4), units(CPU=4, GPU=1))
    assert hybrid(nodes, units(CPU=1, GPU=1), random.Random(0), nodes[0]) is nodes[1]
    assert hybrid(nodes, units(CPU=1, GPU=0.5), random.Random(0), None) is nodes[1]


def test_hybrid_cpu_only_demand_waits_not_infeasible_when_gpu_node_is_feasible():
    nodes = cluster(units(CPU=1, GPU=1), units(CPU=1))
    for node in nodes:
        node.resources.allocate(units(CPU=1))
    assert hybrid(nodes, units(CPU=1), random.Random(0), None) is WAIT


def test_hybrid_infeasible_vs_wait():
    nodes = cluster(*cpu_node_totals(2))
    rng = random.Random(0)
    assert hybrid(nodes, units(CPU=8), rng, None) is INFEASIBLE
    assert hybrid(nodes, {"custom": UNIT}, rng, None) is INFEASIBLE
    assert hybrid(nodes, units(CPU=1, GPU=1), rng, None) is INFEASIBLE
    for node in nodes:
        node.resources.allocate(units(CPU=1))
    assert hybrid(nodes, units(CPU=4), rng, None) is WAIT
    assert hybrid(nodes, units(CPU=3), rng, None) is nodes[0]


def test_hybrid_cpu_only_infeasible_with_gpu_nodes_present():
    nodes = cluster(units(CPU=2, GPU=1), units(CPU=2))
    assert hybrid(nodes, units(CPU=8), random.Random(0), None) is INFEASIBLE


def test_hybrid_infeasible_on_empty_cluster():
    assert hybrid([], units(CPU=1), random.Random(0), None) is INFEASIBLE


def test_hybrid_outcomes_have_readable_reprs():
    assert repr(WAIT) == "WAIT"
    assert repr(INFEASIBLE) == "INFEASIBLE"


def test_hybrid_top_k_random_choice_among_least_used():
    # 10 nodes: k = max(1, int(10 * 0.2)) = 2 -> uniform among the first two of equal score.
    seen = set()
    for seed in range(40):
        nodes = cluster(*cpu_node_totals(10))
        seen.add(nodes.index(hybrid(nodes, units(CPU=1), random.Random(seed), None)))
    assert seen == {0, 1}


def test_hybrid_top_k_below_ten_nodes_is_deterministic():
    for seed in range(20):
        nodes = cluster(*cpu_node_totals(9))
        assert hybrid(nodes, units(CPU=1), random.Random(seed), None) is nodes[0]


def test_hybrid_top_k_preferred_below_threshold_wins_over_randomness():
    for seed in range(20):
        nodes = cluster(*cpu_node_totals(10))
        assert hybrid(nodes, units(CPU=1), random.Random(seed), nodes[7]) is nodes[7]


def test_hybrid_choice_depends_only_on_the_passed_rng():
    def run(seed: int, global_seed: int) -> list[object]:
        random.seed(global_seed)  # global state must not matter
        nodes = cluster(*cpu_node_totals(20, cpus=2))
        rng = random.Random(seed)
        return [place(nodes, units(CPU=1), rng) for _ in range(41)]

    first = run(7, 1)
    assert first == run(7, 2) == run(7, 12345)
    assert first[-1] is WAIT
    assert sorted(first[:-1]) == sorted(list(range(20)) * 2)
    assert any(run(s, 0) != first for s in range(8, 20))  # the seed does matter


def test_hybrid_top_k_counts_all_nodes_in_the_avoid_gpu_pass():
    # Ray computes k from the size of the whole node table (`nodes_.size()` in
    # HybridSchedulingPolicy::ScheduleImpl), also in the first pass that filters to non-GPU
    # nodes: 5 CPU nodes + 5 GPU nodes -> k = int(10 * 0.2) = 2, so a CPU-only task picks
    # uniformly between the first two idle CPU nodes.
    seen = set()
    for seed in range(40):
        nodes = cluster(*cpu_node_totals(5), *[units(CPU=4, GPU=1) for _ in range(5)])
        seen.add(nodes.index(hybrid(nodes, units(CPU=1), random.Random(seed), None)))
    assert seen == {0, 1}


# -- SPREAD --------------------------------------------------------------------------------------


def test_spread_round_robin_over_idle_nodes():
    nodes = cluster(*cpu_node_totals(3))
    cursor = SpreadCursor()
    rng = random.Random(0)
    picks = [nodes.index(cursor.choose(nodes, units(CPU=1), rng)) for _ in range(7)]
    assert picks == [0, 1, 2, 0, 1, 2, 0]


def test_spread_skips_unavailable_and_advances_past_the_chosen_node():
    nodes = cluster(*cpu_node_totals(3, cpus=1))
    nodes[1].resources.allocate(units(CPU=1))
    cursor = SpreadCursor()
    rng = random.Random(0)
    assert cursor.choose(nodes, units(CPU=1), rng) is nodes[0]
    assert cursor.choose(nodes, units(CPU=1), rng) is nodes[2]
    assert cursor.next_index == 0
    assert cursor.choose(nodes, units(CPU=1), rng) is nodes[0]


def test_spread_with_allocation_then_wait_and_infeasible():
    nodes = cluster(*cpu_node_totals(3, cpus=1))
    cursor = SpreadCursor()
    rng = random.Random(0)
    for expected in range(3):
        node = cursor.choose(nodes, units(CPU=1), rng)
        assert node is nodes[expected]
        node.resources.allocate(units(CPU=1))
    assert cursor.choose(nodes, units(CPU=1), rng) is WAIT
    assert cursor.choose(nodes, units(CPU=2), rng) is INFEASIBLE


def test_spread_cursors_are_independent():
    nodes = cluster(*cpu_node_totals(3))
    a, b = SpreadCursor(), SpreadCursor()
    rng = random.Random(0)
    assert a.choose(nodes, units(CPU=1), rng) is nodes[0]
    assert a.choose(nodes, units(CPU=1), rng) is nodes[1]
    assert b.choose(nodes, units(CPU=1), rng) is nodes[0]


# -- node affinity -------------------------------------------------------------------------------


def test_affinity_hard_to_available_node():
    nodes = cluster(*cpu_node_totals(3))
    got = node_affinity(nodes, units(CPU=1), random.Random(0), "n02", False, False)
    assert got is nodes[2]


def test_affinity_hard_to_busy_feasible_node_waits():
    nodes = cluster(*cpu_node_totals(2, cpus=1))
    nodes[1].resources.allocate(units(CPU=1))
    assert node_affinity(nodes, units(CPU=1), random.Random(0), "n01", False, False) is WAIT


def test_affinity_hard_to_missing_or_infeasible_node_is_none():
    nodes = cluster(units(CPU=1), units(CPU=4))
    rng = random.Random(0)
    assert node_affinity(nodes, units(CPU=1), rng, "no-such-node", False, False) is None
    # feasible elsewhere, but not on the target: hard affinity cannot be served
    assert node_affinity(nodes, units(CPU=2), rng, "n00", False, False) is None


def test_affinity_soft_to_missing_or_infeasible_node_falls_back_to_hybrid():
    nodes = cluster(units(CPU=1), units(CPU=4))
    rng = random.Random(0)
    assert node_affinity(nodes, units(CPU=1), rng, "no-such-node", True, False) is nodes[0]
    assert node_affinity(nodes, units(CPU=2), rng, "n00", True, False) is nodes[1]
    assert node_affinity(nodes, units(CPU=8), rng, "n00", True, False) is INFEASIBLE


def test_affinity_soft_busy_target_waits_unless_spill_on_unavailable():
    nodes = cluster(units(CPU=1), units(CPU=4))
    nodes[0].resources.allocate(units(CPU=1))
    rng = random.Random(0)
    assert node_affinity(nodes, units(CPU=1), rng, "n00", True, False) is WAIT
    assert node_affinity(nodes, units(CPU=1), rng, "n00", True, True) is nodes[1]


def test_affinity_soft_available_target_is_used_even_if_busier():
    nodes = cluster(units(CPU=4), units(CPU=4))
    nodes[0].resources.allocate(units(CPU=3))
    assert node_affinity(nodes, units(CPU=1), random.Random(0), "n00", True, True) is nodes[0]


def test_placement_constants_are_rays():
    assert placement.SPREAD_THRESHOLD == 0.5
    assert placement.TOP_K_FRACTION == 0.2
    assert placement.TOP_K_ABSOLUTE == 1


# -- properties ----------------------------------------------------------------------------------

_gpu_demand = st.one_of(
    st.none(),
    st.integers(1, UNIT),  # fractional (<= 1 GPU): any precision in units
    st.integers(1, 4).map(lambda n: n * UNIT),  # whole GPUs
)


@st.composite
def demands(draw) -> dict[str, int]:
    demand: dict[str, int] = {}
    cpu = draw(st.integers(0, 4 * UNIT))
    if cpu:
        demand["CPU"] = cpu
    gpu = draw(_gpu_demand)
    if gpu:
        demand["GPU"] = gpu
    custom = draw(st.integers(0, 2 * UNIT))
    if custom:
        demand["custom"] = custom
    return demand


@st.composite
def totals(draw) -> dict[str, int]:
    total: dict[str, int] = {}
    cpus = draw(st.integers(0, 8 * UNIT))
    if cpus:
        total["CPU"] = cpus
    gpus = draw(st.integers(0, 4))
    if gpus:
        total["GPU"] = gpus * UNIT
    custom = draw(st.integers(0, 3 * UNIT))
    if custom:
        total["custom"] = custom
    if draw(st.booleans()):
        total["memory"] = draw(st.integers(1, 100)) * UNIT
    return total


def _check_invariants(node: NodeResources, held: list[tuple[dict[str, int], list]]) -> None:
    for k, v in node.available.items():
        assert v >= 0, (k, v)
        assert v <= node.total[k], (k, v)
        used = sum(d.get(k, 0) for d, _ in held)
        assert node.total[k] - v == used, (k, v, used)
    for free in node.gpu_free:
        assert 0 <= free <= UNIT
    if node.gpu_free:
        in_use = sum(UNIT - f for f in node.gpu_free)
        assert in_use == node.total["GPU"] - node.available["GPU"]
        by_instance = [0] * len(node.gpu_free)
        for _, shares in held:
            for i, u in shares:
                by_instance[i] += u
        assert by_instance == [UNIT - f for f in node.gpu_free]


@PROPERTY
@given(total=totals(), data=st.data())
def test_property_allocate_release_keeps_resources_consistent(total, data):
    node = NodeResources(total)
    held: list[tuple[dict[str, int], list]] = []
    for _ in range(data.draw(st.integers(0, 30), label="steps")):
        if held and data.draw(st.booleans(), label="release?"):
            i = data.draw(st.integers(0, len(held) - 1), label="which")
            demand, shares = held.pop(i)
            node.release(demand, shares)
        else:
            demand = data.draw(demands(), label="demand")
            if node.fits(demand):
                assert node.feasible(demand)
                shares = node.allocate(demand)
                assert sum(u for _, u in shares) == demand.get("GPU", 0)
                held.append((demand, shares))
        _check_invariants(node, held)
    order = data.draw(st.permutations(range(len(held))), label="release order")
    for i in order:
        node.release(*held[i])
    assert node.available == node.total
    assert node.gpu_free == [UNIT] * (total.get("GPU", 0) // UNIT)


@PROPERTY
@given(total=totals(), data=st.data())
def test_property_gpu_shares_respect_request_shape(total, data):
    node = NodeResources(total)
    for _ in range(data.draw(st.integers(1, 20), label="steps")):
        demand = data.draw(demands(), label="demand")
        if not node.fits(demand):
            continue
        before = list(node.gpu_free)
        shares = node.allocate(demand)
        gpu = demand.get("GPU")
        if gpu is None:
            assert list(shares) == []
        elif gpu <= UNIT:
            # a fractional (or exactly one) GPU request lives on one instance, the best fit
            assert len(shares) == 1
            i, u = shares[0]
            assert u == gpu
            fitting = [f for f in before if f >= gpu]
            assert before[i] == min(fitting)
            assert i == before.index(min(fitting))
        else:
            # a whole request takes whole, previously free instances, lowest ids first
            ids = [i for i, _ in shares]
            assert all(u == UNIT for _, u in shares)
            assert ids == [i for i, f in enumerate(before) if f == UNIT][: gpu // UNIT]
        for f in node.gpu_free:
            assert 0 <= f <= UNIT


@st.composite
def clusters(draw) -> list[Node]:
    n = draw(st.integers(1, 6))
    nodes = cluster(*[draw(totals()) for _ in range(n)])
    for node in nodes:
        for _ in range(draw(st.integers(0, 4))):
            demand = draw(demands())
            if node.resources.fits(demand):
                node.resources.allocate(demand)
    return nodes


@PROPERTY
@given(nodes=clusters(), demand=demands(), seed=st.integers(0, 2**32), data=st.data())
def test_property_hybrid_only_returns_nodes_that_fit(nodes, demand, seed, data):
    preferred = data.draw(st.one_of(st.none(), st.sampled_from(nodes)), label="preferred")
    choice = hybrid(nodes, demand, random.Random(seed), preferred)
    random.random()  # disturbing the global RNG changes nothing: only the passed one counts
    assert hybrid(nodes, demand, random.Random(seed), preferred) is choice
    if choice is INFEASIBLE:
        assert not any(n.resources.feasible(demand) for n in nodes)
    elif choice is WAIT:
        assert any(n.resources.feasible(demand) for n in nodes)
        assert not any(n.resources.fits(demand) for n in nodes)
    else:
        assert choice in nodes
        assert choice.resources.fits(demand)
        choice.resources.allocate(demand)  # must not trip the allocator's own assertion
        for k, v in choice.resources.available.items():
            assert v >= 0, (k, v)


@PROPERTY
@given(nodes=clusters(), demand=demands(), steps=st.integers(1, 12))
def test_property_spread_only_returns_nodes_that_fit(nodes, demand, steps):
    cursor = SpreadCursor()
    rng = random.Random(0)
    for _ in range(steps):
        choice = cursor.choose(nodes, demand, rng)
        if choice is WAIT or choice is INFEASIBLE:
            assert not any(n.resources.fits(demand) for n in nodes)
            break
        assert choice.resources.fits(demand)
        choice.resources.allocate(demand)
