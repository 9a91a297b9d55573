"""The sim backend's own semantics: virtual time, blocking, deadlock, file locks, nodes, cancel."""

from __future__ import annotations

import asyncio
import os
import time

import filelock
import pytest

import simray
import simray.sim
from simray.cluster import Cluster
from simray.exceptions import (
    DeadlockError,
    GetTimeoutError,
    RayTaskError,
    TaskCancelledError,
    TaskUnschedulableError,
)
from simray.util.scheduling_strategies import NodeAffinitySchedulingStrategy


@simray.remote
def sleeper(seconds: float) -> float:
    time.sleep(seconds)
    return simray.sim.now()


def test_clock_starts_at_zero_and_time_module_is_virtual():
    real_before = time.time()
    simray.init(num_cpus=1)
    assert simray.sim.now() == 0.0
    t0, m0 = time.time(), time.monotonic()
    time.sleep(3600)
    assert simray.sim.now() == 3600.0
    assert time.time() - t0 == 3600.0
    assert time.monotonic() - m0 == 3600.0
    simray.shutdown()
    # Back to the real clock: an hour of virtual sleep cost no real hour.
    assert time.time() - real_before < 600


def test_sleeping_tasks_hold_their_cpu_for_exactly_their_sleep():
    simray.init(num_cpus=2)
    finishes = simray.get([sleeper.remote(1) for _ in range(8)])
    assert sorted(finishes) == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    assert simray.sim.now() == 4.0


def test_nested_gets_on_one_cpu_complete():
    simray.init(num_cpus=1)

    @simray.remote
    def depth(n: int) -> int:
        return 0 if n == 0 else simray.get(depth.remote(n - 1)) + 1

    assert simray.get(depth.remote(6)) == 6


def test_gpu_task_waiting_on_gpu_task_deadlocks_with_an_explanation():
    simray.init(num_cpus=2, num_gpus=1)

    @simray.remote(num_gpus=1)
    def child() -> str:
        return "child"

    @simray.remote(num_gpus=1)
    def parent() -> str:
        return simray.get(child.remote())

    with pytest.raises(DeadlockError) as info:
        simray.get(parent.remote())
    message = str(info.value)
    assert "driver waits for 1 object(s)" in message
    assert "parent() runs on node 0 holding {'GPU': 1.0} GPU ids [0]" in message
    assert "child() is queued: it needs {'CPU': 1.0, 'GPU': 1.0}" in message
    assert "node 0 has GPU 0 of 1 free, held by task 1 parent()" in message


def test_gpu_circular_wait_with_timeout_is_a_get_timeout_at_the_virtual_deadline():
    simray.init(num_cpus=2, num_gpus=1)

    @simray.remote(num_gpus=1)
    def child() -> str:
        return "child"

    @simray.remote(num_gpus=1)
    def parent() -> str:
        return simray.get(child.remote(), timeout=3)

    with pytest.raises(GetTimeoutError) as info:
        simray.get(parent.remote())
    assert isinstance(info.value, RayTaskError)
    assert simray.sim.now() == 3.0


def test_infeasible_demand_is_explained():
    simray.init(num_cpus=2)
    ref = sleeper.options(num_cpus=8).remote(1)
    assert simray.wait([ref], timeout=5) == ([], [ref])
    assert simray.sim.now() == 5.0
    with pytest.raises(
        DeadlockError, match=r"infeasible: it needs \{'CPU': 8.0\}.*CPU 8 > largest node's 2"
    ):
        simray.get(ref)


def test_get_timeout_in_the_driver_fires_at_the_deadline():
    simray.init(num_cpus=1)
    with pytest.raises(GetTimeoutError, match=r"^Get timed out: some object\(s\) not ready\.$"):
        simray.get(sleeper.remote(10), timeout=2.5)
    assert simray.sim.now() == 2.5


def test_file_lock_gives_mutual_exclusion_in_virtual_time(tmp_path):
    simray.init(num_cpus=4)
    lock_path = str(tmp_path / "data.lock")

    @simray.remote
    def critical(i: int) -> tuple[float, float]:
        with filelock.FileLock(lock_path):
            start = simray.sim.now()
            time.sleep(1)
            return start, simray.sim.now()

    spans = sorted(simray.get([critical.remote(i) for i in range(4)]))
    assert spans == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)]
    assert os.path.exists(lock_path)


def test_file_lock_timeout_and_non_blocking_as_filelock_documents(tmp_path):
    simray.init(num_cpus=3)
    lock_path = str(tmp_path / "x.lock")

    @simray.remote
    def holder() -> None:
        with filelock.FileLock(lock_path):
            time.sleep(5)

    @simray.remote
    def impatient(**acquire_args) -> str:
        time.sleep(0.1)
        try:
            filelock.FileLock(lock_path).acquire(**acquire_args)
        except filelock.Timeout:
            return f"timeout at {simray.sim.now()}"
        return "acquired"

    h = holder.remote()
    assert simray.get(impatient.remote(timeout=1.5)) == "timeout at 1.6"
    assert simray.get(impatient.remote(blocking=False)) == "timeout at 1.7000000000000002"
    simray.get(h)


def test_deadlock_through_a_file_lock_names_the_lock(tmp_path):
    simray.init(num_cpus=2)
    lock_path = str(tmp_path / "cycle.lock")

    @simray.remote
    def needs_lock() -> str:
        with filelock.FileLock(lock_path):
            return "ok"

    lock = filelock.FileLock(lock_path)
    lock.acquire()
    ref = needs_lock.remote()
    with pytest.raises(
        DeadlockError, match=r"waits for file lock .*cycle\.lock held by the driver"
    ):
        simray.get(ref)


def test_nodes_join_and_leave_during_a_run():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.connect()
    gpu_ref = sleeper.options(num_gpus=1).remote(2)
    time.sleep(10)
    assert simray.wait([gpu_ref], timeout=0) == ([], [gpu_ref])
    cluster.add_node(num_cpus=2, num_gpus=1)
    assert simray.get(gpu_ref) == 12.0
    assert simray.cluster_resources()["GPU"] == 1.0
    assert len([n for n in simray.nodes() if n["Alive"]]) == 2
    cluster.shutdown()


def test_spread_uses_every_node_and_hard_affinity_to_a_missing_node_fails():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    for _ in range(2):
        cluster.add_node(num_cpus=2)
    cluster.connect()

    @simray.remote(scheduling_strategy="SPREAD")
    def where() -> str:
        return simray.get_runtime_context().get_node_id()

    assert len(set(simray.get([where.remote() for _ in range(3)]))) == 3
    target = cluster.list_all_nodes()[2].node_id
    on_target = where.options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(target, soft=False)
    )
    assert simray.get(on_target.remote()) == target
    missing = NodeAffinitySchedulingStrategy("ab" * 28, soft=False)
    with pytest.raises(TaskUnschedulableError, match="soft=False was specified"):
        simray.get(where.options(scheduling_strategy=missing).remote())
    soft = NodeAffinitySchedulingStrategy("ab" * 28, soft=True)
    assert simray.get(where.options(scheduling_strategy=soft).remote()) in {
        n.node_id for n in cluster.list_all_nodes()
    }
    cluster.shutdown()


def test_cuda_visible_devices_inside_gpu_tasks_and_restored_after(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    simray.init(num_cpus=4, num_gpus=2)

    @simray.remote(num_gpus=1)
    def visible() -> tuple[str | None, list[int]]:
        time.sleep(1)
        return os.environ.get("CUDA_VISIBLE_DEVICES"), simray.get_gpu_ids()

    @simray.remote
    def cpu_only() -> str | None:
        return os.environ.get("CUDA_VISIBLE_DEVICES")

    results = simray.get([visible.remote(), visible.remote()])
    assert sorted(results) == [("0", [0]), ("1", [1])]
    assert simray.get(cpu_only.remote()) is None
    simray.shutdown()
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_cancel_pending_running_and_forced():
    simray.init(num_cpus=1)

    @simray.remote
    def spin() -> str:
        time.sleep(10)
        return "slept"

    running = spin.remote()
    pending = spin.remote()
    simray.cancel(pending)
    with pytest.raises(TaskCancelledError):
        simray.get(pending)
    time.sleep(1)
    simray.cancel(running)
    # A running task sees KeyboardInterrupt only when its sleep returns, as in Ray.
    with pytest.raises(TaskCancelledError) as info:
        simray.get(running)
    assert isinstance(info.value, RayTaskError)
    assert simray.sim.now() == 10.0
    forced = spin.remote()
    time.sleep(1)
    simray.cancel(forced, force=True)
    with pytest.raises(TaskCancelledError) as info:
        simray.get(forced)
    assert not isinstance(info.value, RayTaskError)
    assert simray.sim.now() == 11.0
    done = sleeper.remote(0)
    assert simray.get(done) == 11.0
    simray.cancel(done)
    assert simray.get(done) == 11.0


def test_asyncio_inside_a_task_runs_in_virtual_time():
    simray.init(num_cpus=1)

    @simray.remote
    def gather() -> float:
        async def main() -> float:
            loop = asyncio.get_running_loop()
            start = loop.time()
            await asyncio.gather(*(asyncio.sleep(5) for _ in range(10)))
            return loop.time() - start

        return asyncio.run(main())

    assert simray.get(gather.remote()) == 5.0
    assert simray.sim.now() == 5.0


def test_connecting_to_a_cluster_refuses_node_arguments_as_ray_does():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    with pytest.raises(
        ValueError,
        match=r"^When connecting to an existing cluster, num_cpus and num_gpus must not be provided\.$",
    ):
        simray.init(address=cluster.address, num_cpus=4)
    with pytest.raises(
        ValueError,
        match=r"^When connecting to an existing cluster, resources must not be provided\.$",
    ):
        simray.init(address=cluster.address, resources={"x": 1})
    cluster.shutdown()


def test_a_bad_seed_in_the_environment_is_named(monkeypatch):
    monkeypatch.setenv("SIMRAY_SEED", "abc")
    with pytest.raises(ValueError, match=r"^SIMRAY_SEED must be an integer, got 'abc'$"):
        simray.init()
    assert not simray.is_initialized()


def test_await_refs_in_asyncio_code_in_the_driver_and_in_tasks():
    simray.init(num_cpus=4)

    @simray.remote
    def waits_async() -> list[float]:
        async def main() -> list[float]:
            return list(await asyncio.gather(sleeper.remote(2), sleeper.remote(3)))

        return asyncio.run(main())

    async def driver() -> tuple[list[float], float]:
        inner = await waits_async.remote()
        await asyncio.sleep(1)
        return inner, simray.sim.now()

    assert asyncio.run(driver()) == ([2.0, 3.0], 4.0)
    future = sleeper.remote(1).future()
    assert not future.done()
    simray.get(sleeper.remote(1))
    assert future.result() == 5.0


def test_removing_a_node_fails_or_retries_the_tasks_running_there():
    from simray.exceptions import NodeDiedError

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1, resources={"w": 1})
    cluster.connect()
    once = sleeper.options(resources={"w": 1}, max_retries=0).remote(10)
    retried = sleeper.options(num_cpus=0, resources={"w": 0.5}, max_retries=1).remote(10)
    time.sleep(2)
    cluster.remove_node(worker)
    with pytest.raises(
        NodeDiedError, match=r"^Task failed because the node it was running on is dead"
    ):
        simray.get(once)
    cluster.add_node(num_cpus=1, resources={"w": 1})
    # Retried on the new node from t=2: it finishes at 12.
    assert simray.get(retried) == 12.0
    cluster.shutdown()
