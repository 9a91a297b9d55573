"""The pytest plugin, tested from the outside with pytester: options, fixtures, marker, reports."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys

import pytest

import simray._sim
from tests.conftest import ROOT

pytest_plugins = ["pytester"]

# In-process pytester runs drop the modules first imported inside them when they end; simray's
# modules are imported here first, so every test of this worker keeps one copy of each (one
# class per exception).
for _name in (
    "simray.exceptions",
    "simray.cluster",
    "simray.sim",
    "simray.util.test_utils",
    "simray._sim.backend",
    "simray.testing.scenarios",
    *(f"simray._sim.{m.name}" for m in pkgutil.iter_modules(simray._sim.__path__)),
):
    importlib.import_module(_name)

RAY_STYLE = """
import time

import pytest
import ray
from ray._common.test_utils import SignalActor, wait_for_condition
from ray._private.test_utils import wait_for_condition as private_wait
from ray.cluster_utils import Cluster


def test_signal_actor(ray_start_regular):
    signal = SignalActor.remote()

    @ray.remote
    def waiter():
        ray.get(signal.wait.remote())
        return "done"

    ref = waiter.remote()
    wait_for_condition(lambda: ray.get(signal.cur_num_waiters.remote()) == 1)
    ready, _ = ray.wait([ref], timeout=1)
    assert ready == []
    ray.get(signal.send.remote())
    assert ray.get(ref) == "done"


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 4}], indirect=True)
def test_indirect_param(ray_start_regular):
    assert ray.cluster_resources()["CPU"] == 4.0


def test_ten_minute_virtual_wait(ray_start_2_cpus):
    @ray.remote
    def slow():
        time.sleep(600)
        return 1

    start = time.time()
    assert ray.get(slow.remote()) == 1
    assert time.time() - start >= 600


def test_wait_for_condition_times_out_in_virtual_time(ray_start_regular):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="The condition wasn't met before the timeout expired."):
        private_wait(lambda: False, timeout=300)
    assert time.monotonic() - start >= 300


def test_empty_cluster(ray_start_cluster):
    cluster = ray_start_cluster
    assert isinstance(cluster, Cluster)
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=2, resources={"special": 1})
    ray.init(address=cluster.address)
    cluster.wait_for_nodes()

    @ray.remote(resources={"special": 1})
    def where():
        return ray.get_runtime_context().get_node_id()

    assert ray.get(where.remote()) == ray.nodes()[1]["NodeID"]


@pytest.mark.parametrize("ray_start_cluster", [{"num_nodes": 3, "num_cpus": 2}], indirect=True)
def test_cluster_param(ray_start_cluster):
    assert len(ray.nodes()) == 3
    assert ray.cluster_resources()["CPU"] == 6.0


def test_head(ray_start_cluster_head):
    assert len(ray.nodes()) == 1


def test_two_nodes(ray_start_cluster_2_nodes):
    assert ray.cluster_resources()["CPU"] == 2.0


def test_two_node_cluster(two_node_cluster):
    cluster, node = two_node_cluster
    assert node in cluster.worker_nodes


def test_shutdown_only(shutdown_only):
    ray.init(num_cpus=3)
    assert ray.cluster_resources()["CPU"] == 3.0


@pytest.mark.parametrize("ray_start_object_store_memory", [10**8], indirect=True)
def test_store(ray_start_object_store_memory):
    assert ray_start_object_store_memory == 10**8
    assert ray.cluster_resources()["object_store_memory"] == 10**8


def test_no_cpu(ray_start_no_cpu):
    assert "CPU" not in ray.available_resources()


def test_ten_cpus(ray_start_10_cpus):
    assert ray.cluster_resources()["CPU"] == 10.0


def test_other_nodes_and_removal(ray_start_cluster_2_nodes):
    from ray._private.test_utils import get_non_head_nodes, get_other_nodes

    cluster = ray_start_cluster_2_nodes
    others = get_other_nodes(cluster)
    assert others == get_non_head_nodes(cluster)
    assert len(others) == 1
    cluster.remove_node(others[0])
    wait_for_condition(lambda: sum(n["Alive"] for n in ray.nodes()) == 1)


def test_async_wait_for_condition_in_virtual_time(ray_start_regular):
    import asyncio

    from ray._common.test_utils import async_wait_for_condition

    async def main():
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="The condition wasn't met"):
            await async_wait_for_condition(lambda: False, timeout=120)
        return time.monotonic() - start

    assert asyncio.run(main()) >= 120


def test_run_string_as_driver(ray_start_regular):
    from ray._private.test_utils import run_string_as_driver

    out = run_string_as_driver("import ray; ray.init(num_cpus=2); print(ray.cluster_resources()['CPU'])")
    assert out.strip().splitlines()[-1] == "2.0"


def test_shared_first(ray_start_regular_shared):
    ray.put(1)


def test_shared_second(ray_start_regular_shared):
    assert ray.is_initialized()
"""


def test_options_and_marker_are_registered(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--simray-backend={sim,local,ray}*",
            "*--simray-seed=*",
            "*--simray-seeds=K*",
            "*--simray-patch-ray*",
            "*simray_seeds (string)*",
        ]
    )
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.simray(**kwargs): run under a simray session*"])


def test_loading_the_plugin_imports_no_backend_ray_or_hypothesis():
    code = (
        "import sys, simray.testing._plugin; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('ray', 'hypothesis', 'greenlet') "
        "or m.startswith('simray._sim')]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_ray_style_file_runs_unchanged_with_patch_ray(pytester):
    pytester.makepyfile(test_ray_style=RAY_STYLE)
    pytester.makeconftest("import ray\nassert ray.__name__ == 'simray'\n")
    result = pytester.runpytest_subprocess("--simray-patch-ray", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=18)


def test_patch_ray_from_the_ini_file(pytester):
    pytester.makeini("[pytest]\nsimray_patch_ray = true\n")
    pytester.makepyfile(
        "import ray\n"
        "def test_alias(ray_start_regular):\n"
        "    assert ray.__name__ == 'simray'\n"
        "    assert ray.get(ray.put(3)) == 3\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_marker_configures_the_session(pytester):
    pytester.makepyfile(
        """
        import pytest
        import simray

        @pytest.mark.simray(num_cpus=3, num_gpus=2, resources={"disk": 4})
        def test_one_node(simray_session):
            assert simray.cluster_resources()["CPU"] == 3.0
            assert simray.cluster_resources()["GPU"] == 2.0
            assert simray.cluster_resources()["disk"] == 4.0
            assert simray_session.backend == "sim"

        @pytest.mark.simray(nodes=3, num_cpus=2)
        def test_nodes_count(simray_session):
            assert len(simray.nodes()) == 3
            assert simray.cluster_resources()["CPU"] == 6.0

        @pytest.mark.simray(nodes=[{"num_cpus": 1}, {"num_cpus": 4, "num_gpus": 1,
                                                      "accelerator_type": "A100"}])
        def test_nodes_list(simray_session):
            @simray.remote(num_gpus=1, accelerator_type="A100")
            def where():
                return simray.get_runtime_context().get_node_id()
            assert simray.get(where.remote()) == simray.nodes()[1]["NodeID"]

        @pytest.mark.simray(accelerator_type="H100", num_gpus=1)
        def test_accelerator(simray_session):
            assert simray.cluster_resources()["accelerator_type:H100"] == 1.0

        @pytest.mark.simray(seed=7)
        def test_seed(simray_session, simray_seed):
            assert simray_seed == 7
            assert simray_session.seed == 7

        @pytest.mark.simray(num_cpus=1)
        def test_virtual_clock(simray_session):
            import time
            time.sleep(3600)
            assert simray_session.now() == 3600.0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_marker_mistakes_are_named(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.simray(cpus=2)
        def test_unknown(simray_session):
            pass

        @pytest.mark.simray(2)
        def test_positional(simray_session):
            pass

        @pytest.mark.simray(nodes="many")
        def test_bad_nodes(simray_session):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    out = result.stdout.str()
    assert "@pytest.mark.simray got unknown argument(s) ['cpus']; it takes num_cpus" in out
    assert "@pytest.mark.simray takes keyword arguments only, got positional (2,)" in out
    assert "@pytest.mark.simray(nodes=...) takes a node count or a non-empty list" in out


def test_fixture_param_mistakes_are_named(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("ray_start_regular", [4], indirect=True)
        def test_not_a_dict(ray_start_regular):
            pass

        def test_store_needs_a_size(ray_start_object_store_memory):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "fixture 'ray_start_regular' takes a dict of ray.init arguments through indirect" in out
    assert "fixture 'ray_start_object_store_memory' needs the store size in bytes" in out


FLAKY = """
import pytest
import simray

@pytest.mark.simray(num_cpus=2)
def test_depends_on_seed(simray_session, simray_seed):
    @simray.remote
    def f(x):
        return x
    assert simray.get([f.remote(i) for i in range(2)]) == [0, 1]
    assert simray_seed != 3

def test_not_simray():
    pass
"""


def test_seed_sweep_failure_report_and_replay(pytester):
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-seeds=5")
    result.assert_outcomes(passed=5, failed=1)  # 5 seeds of one test, one plain test once
    result.stdout.fnmatch_lines(
        [
            "*- simray -*",
            "seed 3 on backend sim",
            "replay with: pytest test_flaky.py::test_depends_on_seed --simray-seed=3",
            "last * trace events:",
            '  {"t": 0.0, "event": "finish", *',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*simray: failing seeds*",
            "test_flaky.py::test_depends_on_seed[[]seed3[]]: seed 3; replay with: *",
        ]
    )
    replay = re.search(r"replay with: pytest (\S+) (--simray-seed=\d+)", result.stdout.str())
    result = pytester.runpytest("-p", "no:cacheprovider", replay.group(1), replay.group(2))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["seed 3 on backend sim"])


def test_sweep_starts_at_the_given_seed_and_keeps_other_params(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", [1, 2])
        def test_p(n, simray_seed):
            assert simray_seed != 11 or n != 2
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-seeds=2", "--simray-seed=10")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["replay with: pytest 'test_*.py::test_p[[]2[]]' --simray-seed=11"])


def test_bare_init_inside_a_test_gets_its_seed_and_shows_its_trace(pytester):
    pytester.makepyfile(
        """
        import simray

        def test_bare(shutdown_only, simray_seed):
            simray.init(num_cpus=1)
            from simray import _session
            assert _session.active().seed == simray_seed == 4
            ref = simray.put(1)
            simray.shutdown()
            assert False, "fails after shutdown"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-seed=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["seed 4 on backend sim", "last 1 trace events:", '*"node_added"*'])


def test_trace_event_count_option(pytester):
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--simray-seed=3", "--simray-trace-events=2"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["last 2 trace events:"])


def test_option_mistakes_are_usage_errors(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("--simray-seeds=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--simray-seeds (ini simray_seeds) must be an integer >= 1, got 0*"]
    )
    pytester.makeini("[pytest]\nsimray_backend = nope\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*simray_backend must be one of sim, local, ray, got 'nope'*"])


def test_ini_seed_and_seeds(pytester):
    pytester.makeini("[pytest]\nsimray_seed = 5\nsimray_seeds = 2\n")
    pytester.makepyfile(
        """
        seen = []

        def test_s(simray_seed):
            seen.append(simray_seed)

        def test_after():
            assert seen == [5, 6]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_local_backend_is_accepted_and_its_own_error_speaks(pytester):
    pytester.makepyfile(
        """
        import simray

        def test_local(ray_start_regular):
            assert simray.get(simray.put(1)) == 1
        """
    )
    before = os.environ.get("SIMRAY_BACKEND")
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-backend=local")
    assert os.environ.get("SIMRAY_BACKEND") == before  # the run's default is put back
    outcomes = result.parseoutcomes()
    if outcomes.get("passed") == 1:  # the local backend has landed
        return
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*backend 'local'*"])


def test_under_xdist_each_worker_has_its_own_sessions(pytester):
    pytester.makepyfile(
        """
        import os
        import pytest
        import simray

        @pytest.mark.parametrize("i", range(4))
        def test_many(ray_start_2_cpus, simray_seed, i):
            from simray import _session
            assert _session.active().seed == simray_seed
            assert os.environ["SIMRAY_SEED"] == str(simray_seed)
            assert simray.get(simray.put(i)) == i
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--simray-seeds=2")
    result.assert_outcomes(passed=8)


def test_hypothesis_given_beside_a_shared_session(pytester):
    pytester.makepyfile(
        """
        import random
        from hypothesis import given, settings, strategies as st
        import simray
        from simray import _session

        draws = []

        @settings(max_examples=5, database=None)
        @given(n=st.integers(1, 4))
        def test_given(ray_start_regular_shared, n):
            @simray.remote
            def f(x):
                return x * 2
            assert simray.get([f.remote(i) for i in range(n)]) == [2 * i for i in range(n)]
            draws.append(_session.active().rng.random())

        def test_rng_was_managed(ray_start_regular_shared):
            # hypothesis resets registered randoms before every example, so each example
            # starts from the same simulator RNG state (replayable alone), not from where the
            # previous example left the stream
            assert len(draws) >= 3
            assert len(set(draws)) == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_shared_session_is_reseeded_per_test(pytester):
    pytester.makepyfile(
        """
        from simray import _session

        draws = {}

        def test_a(ray_start_regular_shared):
            draws["a"] = _session.active().rng.random()

        def test_b(ray_start_regular_shared):
            draws["b"] = _session.active().rng.random()
            assert draws["a"] == draws["b"]  # same seed, so the same draw: replayable alone
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_ray_backend_runs_the_fixtures_on_real_ray(pytester, ray_tmpdir, monkeypatch):
    monkeypatch.setenv("RAY_TMPDIR", ray_tmpdir)
    pytester.makepyfile(
        """
        import ray
        import simray

        def test_real(ray_start_regular):
            assert ray.is_initialized()
            assert ray.cluster_resources()["CPU"] == 1.0

            @simray.remote
            def f():
                return 5
            assert simray.get(f.remote()) == 5

        def test_test_connects_itself(ray_start_cluster):
            # the test calls real ray.init itself: the fixture's teardown must disconnect it
            # before removing the nodes, as Ray's conftest does
            ray_start_cluster.add_node(num_cpus=1)
            ray.init(address=ray_start_cluster.address)
            assert len(ray.nodes()) == 1

        def test_after(shutdown_only):
            ray.init(num_cpus=2)
            assert ray.cluster_resources()["CPU"] == 2.0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--simray-backend=ray")
    result.assert_outcomes(passed=3)


def test_the_other_ray_fixtures_and_the_cluster_builder(pytester):
    pytester.makepyfile(
        """
        import logging
        import os

        import pytest
        import simray


        def test_dashboard(ray_start_with_dashboard):
            assert simray.cluster_resources()["CPU"] == 1.0


        def test_cluster_init(ray_start_cluster_init):
            # As in Ray's conftest: do_init connects when the first node is added, so with
            # num_nodes=0 nothing is started yet
            assert not simray.is_initialized()
            assert ray_start_cluster_init.list_all_nodes() == []


        @pytest.mark.parametrize("ray_start_cluster_enabled", [{"num_nodes": 2}], indirect=True)
        def test_cluster_enabled(ray_start_cluster_enabled):
            assert len(simray.nodes()) == 2


        @pytest.mark.parametrize(
            "ray_start_cluster_head_with_env_vars",
            [{"env_vars": {"SIMRAY_TEST_FLAG": "on"}, "num_cpus": 3}],
            indirect=True,
        )
        def test_env_vars(ray_start_cluster_head_with_env_vars):
            assert os.environ["SIMRAY_TEST_FLAG"] == "on"
            assert simray.cluster_resources()["CPU"] == 3.0


        def test_propagate(propagate_logs):
            assert logging.getLogger("ray").propagate


        def test_builder(simray_cluster):
            simray_cluster.add_node(num_cpus=1)
            simray_cluster.add_node(num_cpus=2, num_gpus=1)
            simray_cluster.connect()
            assert simray.cluster_resources()["GPU"] == 1.0


        class TestShared:
            def test_one(self, class_ray_instance):
                assert simray.is_initialized()

            def test_two(self, class_ray_instance):
                assert simray.cluster_resources()["CPU"] == 8.0  # a bare init()


        def test_shared_two_cpus(ray_start_regular_shared_2_cpus):
            assert simray.cluster_resources()["CPU"] == 2.0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)
