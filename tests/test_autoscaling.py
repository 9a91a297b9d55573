"""Ray's autoscaler on the sim backend, in virtual time: scale-up, idle scale-down, infeasible
demand, request_resources, AutoscalingCluster, cluster specs, and the bounds of Ray's own
autoscaling-policy simulation (`python/ray/tests/test_autoscaling_policy.py`) on the sim
backend; test_autoscaling_ray_policy.py runs that test's own Simulator with Ray's and simray's
autoscaler."""

from __future__ import annotations

import time

import pytest

import simray
from simray.autoscaler.sdk import request_resources
from simray.cluster import AutoscalingCluster
from simray.util.placement_group import placement_group

# Ray's test_autoscaling_policy.py SAMPLE_CLUSTER_CONFIG: MULTI_WORKER_CLUSTER's node types,
# max_workers 9999, target_utilization_fraction 0.5 (upscaling speed 1), SMALL_CLUSTER's idle
# timeout of 5 minutes; its Simulator joins nodes 120 s after launch, updates every 5 s.
SAMPLE = {
    "max_workers": 9999,
    "target_utilization_fraction": 0.5,
    "idle_timeout_minutes": 5,
    "head_node_type": "empty_node",
    "available_node_types": {
        "empty_node": {"resources": {}, "max_workers": 0},
        "m4.large": {"resources": {"CPU": 2}, "max_workers": 10},
        "m4.4xlarge": {"resources": {"CPU": 16}, "max_workers": 10000},
        "m4.16xlarge": {"resources": {"CPU": 64}, "max_workers": 100},
        "p2.xlarge": {"resources": {"CPU": 16, "GPU": 1}, "max_workers": 10},
        "p2.8xlarge": {"resources": {"CPU": 32, "GPU": 8}, "max_workers": 4},
    },
}
for _t in SAMPLE["available_node_types"].values():
    _t["launch_delay_s"] = 120


@pytest.fixture
def session():
    yield
    simray.shutdown()


def _alive_workers():
    return sum(1 for n in simray.nodes() if n["Alive"]) - 1


def test_many_tasks_finish_before_850s(session):
    simray.init(cluster=SAMPLE)

    @simray.remote(num_cpus=1)
    def task():
        time.sleep(200)

    simray.get([task.remote() for _ in range(5000)])
    assert time.monotonic() < 850
    autoscaler = simray._session.active().autoscaler
    assert autoscaler.node_seconds(time.monotonic())["m4.16xlarge"] > 0
    # Idle nodes go after the 5-minute timeout.
    assert _alive_workers() > 0
    time.sleep(400)
    assert _alive_workers() == 0
    reasons = {e[3] for e in autoscaler.events if e[1] == "terminate"}
    assert reasons == {"idle"}


def test_many_actors_start_before_850s(session):
    """Ray's test asserts < 650 s, a bound written for an older autoscaler: Ray 2.60's own
    StandardAutoscaler in Ray's Simulator starts the last actor at t = 860 s, and simray's
    policy there makes the same decisions (test_autoscaling_ray_policy.py). The sim backend
    gives work to a node the moment it joins, before that instant's autoscaler update (Ray's
    Simulator updates first, so it sees demand a joined node is about to take and launches in
    other waves): the last actor starts at 840 s here, and Ray's own autoscaler given that
    order of events makes the same launches at the same times (the same test file)."""
    simray.init(cluster=SAMPLE)

    @simray.remote(num_cpus=1)
    class Actor:
        def ping(self):
            return 1

    actors = [Actor.remote() for _ in range(5000)]
    assert sum(simray.get([a.ping.remote() for a in actors])) == 5000
    assert time.monotonic() < 850


def test_many_placement_groups_before_630s(session):
    simray.init(cluster=SAMPLE)
    groups = [placement_group([{"CPU": 1}, {"CPU": 2}], "STRICT_PACK") for _ in range(500)]
    groups += [placement_group([{"CPU": 1}, {"CPU": 2}], "STRICT_SPREAD") for _ in range(500)]
    simray.get([g.ready() for g in groups])
    assert time.monotonic() < 630


def _cluster(**kwargs):
    return AutoscalingCluster(
        head_resources={"CPU": 1},
        worker_node_types={
            "cpu4": {
                "resources": {"CPU": 4},
                "node_config": {},
                "min_workers": 0,
                "max_workers": 3,
            },
        },
        **kwargs,
    )


def test_autoscaling_cluster_scale_up_down_and_infeasible(capsys):
    cluster = _cluster(idle_timeout_minutes=1)
    cluster.start()
    simray.init("auto")
    try:

        @simray.remote(num_cpus=4)
        def work(i):
            time.sleep(10)
            return simray.get_runtime_context().get_node_id()

        nodes = set(simray.get([work.remote(i) for i in range(6)]))
        assert len(nodes) == 3  # three 4-CPU workers: the head has 1 CPU
        # 5 s launch delay, two waves of 10 s: done well inside a minute of virtual time.
        assert time.monotonic() < 60
        assert _alive_workers() == 3
        time.sleep(90)
        assert _alive_workers() == 0
        capsys.readouterr()

        @simray.remote(num_cpus=8)
        def too_big():
            return 1

        ready, _ = simray.wait([too_big.remote()], timeout=20)
        assert ready == []
        # The autoscaler's notice, on the driver's stdout at its next update, as on Ray.
        assert (
            "Error: No available node types can fulfill resource request {'CPU': 8.0}. "
            "Add suitable node types to this cluster to resolve this issue.\n"
            in capsys.readouterr().out
        )
        assert _alive_workers() == 0
    finally:
        simray.shutdown()
        cluster.shutdown()


def test_request_resources_scales_and_protects(session):
    simray.init(
        cluster={
            "head_node_type": "head",
            "max_workers": 10,
            "idle_timeout_minutes": 1,
            "node_types": {
                "head": {"resources": {"CPU": 2}},
                "cpu4": {"resources": {"CPU": 4}, "max_workers": 10, "launch_delay_s": 30},
            },
        }
    )
    request_resources(num_cpus=14)  # head 2 + 3 x 4
    time.sleep(40)
    assert _alive_workers() == 3
    time.sleep(300)
    assert _alive_workers() == 3  # needed by the request: kept though idle
    request_resources(num_cpus=0)
    time.sleep(120)
    assert _alive_workers() == 0


def test_min_workers_launch_at_start_and_stay(session):
    simray.init(
        cluster={
            "head_node_type": "head",
            "max_workers": 4,
            "idle_timeout_minutes": 0.5,
            "node_types": {
                "head": {"resources": {"CPU": 1}},
                "w": {
                    "resources": {"CPU": 2},
                    "min_workers": 2,
                    "max_workers": 4,
                    "launch_delay_s": {"dist": "uniform", "low": 10, "high": 20},
                },
            },
        }
    )
    time.sleep(600)
    assert _alive_workers() == 2
    assert simray.cluster_resources()["CPU"] == 5


def test_launches_show_in_trace_and_nodes(tmp_path, session):
    path = tmp_path / "trace.jsonl"
    simray.init(cluster=SAMPLE, trace=str(path))

    @simray.remote(num_gpus=1)
    def gpu():
        return 1

    assert simray.get(gpu.remote()) == 1
    assert time.monotonic() >= 120  # one launch delay
    simray.shutdown()
    text = path.read_text()
    assert '"event": "node_launch"' in text
    assert '"node_type": "p2.xlarge"' in text
    assert '"event": "node_joined"' in text


def test_same_seed_same_trace(tmp_path):
    def run(p):
        simray.init(cluster=SAMPLE, trace=str(p), seed=3)

        @simray.remote(num_cpus=1)
        def t(i):
            time.sleep(i % 7)

        simray.get([t.remote(i) for i in range(300)])
        time.sleep(400)
        simray.shutdown()
        return p.read_text()

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_init_cluster_on_ray_backend_is_refused():
    with pytest.raises(ValueError, match="sim backend only"):
        simray.init(backend="ray", cluster=SAMPLE)


def test_request_resources_validation(session):
    simray.init()
    with pytest.raises(TypeError, match="num_cpus should be of type int"):
        request_resources(num_cpus=1.5)
    with pytest.raises(TypeError, match="each bundle should be a Dict"):
        request_resources(bundles=[1])
    with pytest.raises(TypeError, match="each bundle value should be a number"):
        request_resources(bundles=[{"CPU": True}])
    request_resources(num_cpus=4)  # no autoscaler: no effect, as on a fixed Ray cluster
    simray.shutdown()
    with pytest.raises(RuntimeError, match="Ray is not initialized yet"):
        request_resources(num_cpus=1)


def test_autoscaling_cluster_under_simray_exec(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "prog.py"
    script.write_text(
        "import time\n"
        "import ray\n"
        "from ray.cluster_utils import AutoscalingCluster\n"
        "from ray.autoscaler.sdk import request_resources\n"
        "c = AutoscalingCluster(head_resources={'CPU': 0}, worker_node_types={'w': {"
        "'resources': {'CPU': 2}, 'node_config': {}, 'min_workers': 0, 'max_workers': 2}})\n"
        "c.start()\n"
        "ray.init('auto')\n"
        "request_resources(num_cpus=4)\n"
        "time.sleep(10)\n"
        "print(ray.cluster_resources().get('CPU'))\n"
        "ray.shutdown()\n"
        "c.shutdown()\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "simray", "exec", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4.0"
