"""Custom resources in the plan engine: node types with e.g. {TPU = 4} or {special = 1}, task
groups asking for them, Ray's autoscaler launching the right types, unservable demand named."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simray._model.cluster_spec import SpecError
from simray._plan import main as plan_main
from simray._plan import packing, workload

CLUSTER = """
head_node_type = "head"
max_workers = 6
idle_timeout_minutes = 1
[node_types.head]
resources = { CPU = 2 }
[node_types.cpu8]
resources = { CPU = 8 }
max_workers = 2
launch_delay_s = 30
price_per_hour = 0.4
[node_types.tpu]
resources = { CPU = 8, TPU = 4 }
max_workers = 2
launch_delay_s = 60
price_per_hour = 4.0
[node_types.special]
resources = { CPU = 4, special = 1 }
max_workers = 1
launch_delay_s = 60
price_per_hour = 1.0
"""

PLAN = """
cluster = "cluster.toml"
[workload]
kind = "tasks"
[[workload.groups]]
name = "tpu_train"
count = 4
resources = { CPU = 1, TPU = 4 }
duration_s = 100
[[workload.groups]]
name = "licensed"
count = 3
resources = { CPU = 1, special = 1 }
duration_s = 50
[[workload.groups]]
name = "cpu"
count = 8
resources = { CPU = 2 }
duration_s = 20
[[workload.groups]]
name = "huge_tpu"
count = 1
resources = { TPU = 8 }
duration_s = 1
"""


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "cluster.toml").write_text(CLUSTER)
    (tmp_path / "plan.toml").write_text(PLAN)
    return tmp_path / "plan.toml"


def test_custom_resources_drive_node_types_and_timing(spec, capsys):
    assert plan_main([str(spec), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["finished"] == 15  # all but the TPU = 8 task
    # two TPU nodes at most, one four-TPU task each: two waves of 100 s after a 60 s launch
    assert s["peak_nodes"]["tpu"] == 2
    # one "special" node: three 50 s tasks one after another, also after a 60 s launch
    assert s["peak_nodes"]["special"] == 1
    assert s["makespan_s"] == pytest.approx(260, abs=10)
    assert s["node_hours"]["tpu"] > 0
    assert s["node_hours"]["special"] > 0
    (unserved,) = s["unserved"]
    assert unserved["jobs"] == 1
    assert "TPU 8 > largest node type's 4" in unserved["reason"]


def test_pod_from_resources_takes_custom_names():
    pod = workload.pod_from_resources("s", "k", {"CPU": 1, "special": 0.5, "TPU": 2})
    assert pod.custom == (("TPU", 2 * packing.UNIT), ("special", packing.UNIT // 2))
    with pytest.raises(SpecError, match="at most 4 decimals"):
        workload.pod_from_resources("s", "k", {"special": 0.00001})
    with pytest.raises(SpecError, match="object store memory"):
        workload.pod_from_resources("s", "k", {"object_store_memory": 1e9})


def test_accelerator_type_marker_is_a_custom_resource(tmp_path, capsys):
    (tmp_path / "cluster.toml").write_text(
        'head_node_type = "head"\nmax_workers = 2\n[node_types.head]\nresources = { CPU = 1 }\n'
        "[node_types.a100]\nresources = { CPU = 8, GPU = 1 }\naccelerator_type = 'A100'\n"
        "max_workers = 1\nlaunch_delay_s = 0\n"
        "[node_types.t4]\nresources = { CPU = 8, GPU = 1 }\naccelerator_type = 'T4'\n"
        "max_workers = 1\nlaunch_delay_s = 0\n"
    )
    (tmp_path / "plan.toml").write_text(
        'cluster = "cluster.toml"\n[workload]\nkind = "tasks"\n[[workload.groups]]\n'
        'name = "on_a100"\ncount = 2\nresources = { GPU = 1, "accelerator_type:A100" = 0.001 }\n'
        "duration_s = 10\n"
    )
    assert plan_main([str(tmp_path / "plan.toml"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["finished"] == 2
    assert s["peak_nodes"].get("t4", 0) == 0  # the T4 node has no accelerator_type:A100
    assert s["makespan_s"] == pytest.approx(20, abs=6)  # one A100 node: one after the other


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 2, 4]), st.sampled_from([0, 0.5, 1])),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["best_fit", "random", "spread", "ray_default", "fgd"]),
    st.integers(0, 3),
)
def test_custom_resources_are_never_overcommitted(requests, name, seed):
    nodes = [
        packing.Node(f"n{i}", 8000, 1 << 20, 0, custom=packing.custom_units({"TPU": 4, "s": 1}))
        for i in range(3)
    ]
    cluster = packing.Cluster(nodes)
    pods = [
        packing.Pod(500, 0, 0, 0, packing.custom_units({"TPU": t, "s": x})) for t, x in requests
    ]
    policy = packing.make_policy(name, pods)
    rng = random.Random(seed)
    placed = {n.name: [] for n in nodes}
    for pod in pods:
        choice = policy(cluster, pod, rng)
        fits_somewhere = any(packing.fits_state(n.state(), pod) for n in nodes)
        assert (choice is not None) == fits_somewhere
        if choice is not None:
            cluster.place(choice, pod)
            placed[choice.node.name].append(pod)
    for n in nodes:
        for k, cap in n.custom:
            used = sum(dict(p.custom).get(k, 0) for p in placed[n.name])
            assert used <= cap
            assert n.custom_free[k] == cap - used
