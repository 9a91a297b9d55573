"""simray's autoscaler policy against Ray's own code (differential, hypothesis) and by example.

When Ray is installed (it is in CI), `get_nodes_for`, `get_bin_pack_residual` and the whole
`get_nodes_to_launch` are compared with Ray 2.60's `resource_demand_scheduler` on drawn node
types, existing nodes, launching nodes, demands, placement groups and `request_resources`
bundles: the same nodes to launch and the same unfulfilled demands, every time.
"""

from __future__ import annotations

import importlib.util
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simray import autoscaler
from simray._model import autoscaler as model

HAVE_RAY = importlib.util.find_spec("ray") is not None
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["CPU", "GPU", "memory", "TPU", "custom"]


@st.composite
def resource_dicts(draw, integral: bool, min_size: int = 1):
    keys = draw(st.lists(st.sampled_from(KINDS), min_size=min_size, max_size=4, unique=True))
    values = (
        st.sampled_from([0, 1, 2, 4, 8, 16])
        if integral
        else st.sampled_from([0, 0.25, 0.5, 1, 1, 2, 3, 4, 8])
    )
    return {k: draw(values) for k in keys}


@st.composite
def node_type_configs(draw):
    names = draw(
        st.lists(
            st.sampled_from(["a", "b", "c", "d", "gpu", "head"]),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    types = {}
    for name in names:
        min_w = draw(st.integers(0, 3))
        types[name] = {
            "resources": draw(resource_dicts(integral=True, min_size=0)),
            "min_workers": min_w,
            "max_workers": draw(st.integers(0, 10)),
        }
    head = draw(st.sampled_from(names))
    return types, head


@st.composite
def policy_inputs(draw):
    types, head = draw(node_type_configs())
    existing = {t: draw(st.integers(0, 4)) for t in types if draw(st.booleans())}
    demands = draw(st.lists(resource_dicts(integral=False), max_size=30))
    max_to_add = draw(st.integers(0, 40))
    return types, existing, head, max_to_add, demands


def _ray_scorer():
    from ray.autoscaler._private.node_provider_availability_tracker import (
        NodeAvailabilitySummary,
    )
    from ray.autoscaler._private.resource_demand_scheduler import _default_utilization_scorer

    return partial(
        _default_utilization_scorer,
        node_availability_summary=NodeAvailabilitySummary(node_availabilities={}),
    )


def _norm(to_add):
    return {k: v for k, v in to_add.items() if v}


@pytest.mark.skipif(not HAVE_RAY, reason="compares with Ray's code, which is not installed")
@SETTINGS
@given(policy_inputs(), st.booleans())
def test_get_nodes_for_matches_ray(inputs, strict_spread):
    from ray.autoscaler._private import resource_demand_scheduler as rds

    types, existing, head, max_to_add, demands = inputs
    theirs = rds.get_nodes_for(
        types,
        dict(existing),
        head,
        max_to_add,
        [dict(d) for d in demands],
        _ray_scorer(),
        strict_spread=strict_spread,
    )
    ours = autoscaler.get_nodes_for(
        types,
        dict(existing),
        head,
        max_to_add,
        [dict(d) for d in demands],
        strict_spread=strict_spread,
    )
    assert _norm(ours[0]) == _norm(theirs[0])
    assert ours[1] == theirs[1]


@pytest.mark.skipif(not HAVE_RAY, reason="compares with Ray's code, which is not installed")
@SETTINGS
@given(
    st.lists(resource_dicts(integral=True, min_size=0), max_size=8),
    st.lists(resource_dicts(integral=False), max_size=30),
    st.booleans(),
)
def test_bin_pack_residual_matches_ray(nodes, demands, strict_spread):
    from ray.autoscaler._private import resource_demand_scheduler as rds

    theirs = rds.get_bin_pack_residual(nodes, demands, strict_spread=strict_spread)
    ours = autoscaler.get_bin_pack_residual(nodes, demands, strict_spread=strict_spread)
    assert ours == theirs


class _Provider:
    """The two provider methods Ray's scheduler calls: a node's tags and its IP (= its id)."""

    def __init__(self, kinds):
        self.kinds = kinds  # node id -> (kind, node type)

    def node_tags(self, node_id):
        from ray.autoscaler.tags import TAG_RAY_NODE_KIND, TAG_RAY_USER_NODE_TYPE

        kind, node_type = self.kinds[node_id]
        return {TAG_RAY_NODE_KIND: kind, TAG_RAY_USER_NODE_TYPE: node_type}

    def internal_ip(self, node_id):
        return node_id


def _ray_pg(strategy, bundles):
    from ray.core.generated.common_pb2 import Bundle, PlacementStrategy
    from ray.core.generated.gcs_pb2 import PlacementGroupTableData

    return PlacementGroupTableData(
        strategy=PlacementStrategy.Value(strategy),
        bundles=[Bundle(unit_resources=b) for b in bundles],
    )


@st.composite
def cluster_states(draw):
    types, head = draw(node_type_configs())
    names = list(types)
    nodes = []
    for i in range(draw(st.integers(0, 6))):
        t = draw(st.sampled_from(names))
        connected = draw(st.booleans())
        avail = None
        if connected:
            total = types[t]["resources"]
            avail = {k: draw(st.sampled_from([0, v / 2, v])) for k, v in total.items()}
        nodes.append((f"n{i}", t, avail))
    launching = {t: draw(st.integers(0, 3)) for t in names if draw(st.booleans())}
    demands = draw(st.lists(resource_dicts(integral=False), max_size=25))
    pgs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"]),
                st.lists(resource_dicts(integral=True), min_size=1, max_size=4),
            ),
            max_size=3,
        )
    )
    requests = draw(st.lists(resource_dicts(integral=True), max_size=10))
    max_workers = draw(st.integers(0, 20))
    speed = draw(st.sampled_from([0.5, 1.0, 2.0, 10.0]))
    return types, head, nodes, launching, demands, pgs, requests, max_workers, speed


@pytest.mark.skipif(not HAVE_RAY, reason="compares with Ray's code, which is not installed")
@SETTINGS
@given(cluster_states())
def test_get_nodes_to_launch_matches_ray(state):
    from ray.autoscaler._private.node_provider_availability_tracker import (
        NodeAvailabilitySummary,
    )
    from ray.autoscaler._private.resource_demand_scheduler import ResourceDemandScheduler

    types, head, nodes, launching, demands, pgs, requests, max_workers, speed = state
    provider = _Provider({nid: ("worker", t) for nid, t, _ in nodes})
    theirs_sched = ResourceDemandScheduler(provider, types, max_workers, head, speed)
    theirs = theirs_sched.get_nodes_to_launch(
        [nid for nid, _, _ in nodes],
        dict(launching),
        [dict(d) for d in demands],
        {nid: dict(a) for nid, _, a in nodes if a is not None},
        [_ray_pg(s, b) for s, b in pgs],
        {},  # max_resources_by_ip: no runtime override, as types are exact here
        [dict(r) for r in requests],
        NodeAvailabilitySummary(node_availabilities={}),
    )
    ours_sched = autoscaler.ResourceDemandScheduler(types, max_workers, head, speed)
    ours = ours_sched.get_nodes_to_launch(
        [model.ClusterNode(t, None if a is None else dict(a)) for _, t, a in nodes],
        dict(launching),
        [dict(d) for d in demands],
        [model.PendingPlacementGroup(s, [dict(x) for x in b]) for s, b in pgs],
        [dict(r) for r in requests],
    )
    assert ours[0] == theirs[0]
    assert [dict(d) for d in ours[1]] == [dict(d) for d in theirs[1]]


# -- by example (hold without Ray) --------------------------------------------------------------

TYPES = {
    "head": {"resources": {"CPU": 4}, "max_workers": 0},
    "m4.large": {"resources": {"CPU": 2}, "min_workers": 0, "max_workers": 10},
    "m4.16xlarge": {"resources": {"CPU": 64}, "max_workers": 10},
    "p2.8xlarge": {"resources": {"CPU": 32, "GPU": 8}, "max_workers": 4},
}


def test_cpu_work_avoids_gpu_nodes_and_packs_big_types():
    to_add, left = autoscaler.get_nodes_for(TYPES, {}, "head", 100, [{"CPU": 1}] * 64)
    assert dict(to_add) == {"m4.16xlarge": 1}
    assert left == []


def test_gpu_demand_picks_gpu_type_and_caps():
    to_add, left = autoscaler.get_nodes_for(TYPES, {}, "head", 100, [{"GPU": 8}] * 6)
    assert dict(to_add) == {"p2.8xlarge": 4}
    assert left == [{"GPU": 8}] * 2


def test_max_to_add_limits_nodes():
    to_add, left = autoscaler.get_nodes_for(TYPES, {}, "head", 2, [{"CPU": 64}] * 5)
    assert dict(to_add) == {"m4.16xlarge": 2}
    assert len(left) == 3


def test_infeasible_demand_is_left():
    to_add, left = autoscaler.get_nodes_for(TYPES, {}, "head", 10, [{"TPU": 1}])
    assert dict(to_add) == {}
    assert left == [{"TPU": 1}]


def test_launch_rate_limit_and_min_workers_bypass():
    types = {
        "head": {"resources": {"CPU": 1}, "max_workers": 0},
        "w": {"resources": {"CPU": 1}, "min_workers": 8, "max_workers": 100},
    }
    sched = autoscaler.ResourceDemandScheduler(types, 100, "head", upscaling_speed=1.0)
    head = model.ClusterNode("head", {"CPU": 0}, is_head=True)
    # min_workers: all 8 at once, past the limit of 5 in flight.
    to_launch, _ = sched.get_nodes_to_launch([head], {}, [], [], [])
    assert to_launch == {"w": 8}
    # Demand for 40 more with 8 pending: max(5, 1*1) - 8 < 0, so nothing more now.
    pending = [model.ClusterNode("w") for _ in range(8)]
    to_launch, _ = sched.get_nodes_to_launch([head, *pending], {}, [{"CPU": 1}] * 48, [], [])
    assert to_launch == {}
    # With 8 running and speed 1: up to 8 in flight.
    running = [model.ClusterNode("w", {"CPU": 0}) for _ in range(8)]
    to_launch, _ = sched.get_nodes_to_launch([head, *running], {}, [{"CPU": 1}] * 40, [], [])
    assert to_launch == {"w": 8}


def test_idle_termination_respects_min_workers_and_requests():
    types = {
        "head": {"resources": {"CPU": 1}, "max_workers": 0},
        "w": {"resources": {"CPU": 2}, "min_workers": 1, "max_workers": 10},
    }
    workers = [model.WorkerState(i, "w", last_used=float(i)) for i in range(4)]
    out = autoscaler.nodes_to_terminate(types, "head", 10, 60, 100.0, workers)
    # Most recently used (3) is kept for min_workers; the other idle ones go.
    assert sorted(out) == [(0, "idle"), (1, "idle"), (2, "idle")]
    out = autoscaler.nodes_to_terminate(
        types, "head", 10, 60, 100.0, workers, resource_requests=[{"CPU": 2}] * 2
    )
    # request_resources for 2 x 2 CPUs: the head cannot hold one, so two workers are needed.
    assert sorted(out) == [(0, "idle"), (1, "idle")]
