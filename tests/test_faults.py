"""Fault injection on the sim backend: crashed workers, dead nodes, killed actor processes."""

from __future__ import annotations

import os
import time

import pytest

import simray
import simray.sim
from simray.cluster import Cluster
from simray.exceptions import (
    ActorDiedError,
    ActorUnavailableError,
    NodeDiedError,
    ObjectLostError,
    WorkerCrashedError,
)


def _two_nodes() -> tuple[Cluster, object]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=2, resources={"w": 2})
    cluster.connect()
    return cluster, worker


def test_os_exit_in_a_task_is_a_worker_crash_retried_then_reported(tmp_path):
    simray.init(num_cpus=1)

    @simray.remote
    def crashy(path: str, crashes: int) -> int:
        attempts = len(os.listdir(path))
        open(os.path.join(path, str(attempts)), "w").close()
        if attempts < crashes:
            os._exit(1)
        return attempts

    assert simray.get(crashy.options(max_retries=3).remote(str(tmp_path), 2)) == 2
    (tmp_path / "again").mkdir()
    with pytest.raises(WorkerCrashedError, match=r"^The worker died unexpectedly"):
        simray.get(crashy.options(max_retries=1).remote(str(tmp_path / "again"), 5))
    assert len(os.listdir(tmp_path / "again")) == 2


def test_crash_worker_at_a_virtual_time():
    simray.init(num_cpus=1)

    @simray.remote(max_retries=0)
    def long() -> None:
        time.sleep(100)

    ref = long.remote()
    simray.sim.crash_worker(ref, at=5)
    with pytest.raises(WorkerCrashedError):
        simray.get(ref)
    assert simray.sim.now() == 5.0


def test_node_death_under_a_running_task_and_lineage_rebuild():
    cluster, worker = _two_nodes()

    @simray.remote(resources={"w": 1})
    def make(seconds: float) -> float:
        time.sleep(seconds)
        return simray.sim.now()

    made = make.remote(1)
    assert simray.get(made) == 1.0
    running = make.options(max_retries=0).remote(10)
    simray.sim.kill_node(worker.node_id, at=3)
    with pytest.raises(NodeDiedError, match="node it was running on is dead"):
        simray.get(running)
    assert simray.sim.now() == 3.0
    # The finished object lived only on the dead node: rebuilt by re-running make() elsewhere.
    cluster.add_node(num_cpus=2, resources={"w": 2})
    assert simray.get(made) == 4.0
    lost = make.options(max_retries=0).remote(1)
    simray.get(lost)
    simray.sim.kill_node(cluster.list_all_nodes()[-1].node_id)
    with pytest.raises(ObjectLostError):
        simray.get(lost)
    cluster.shutdown()


def test_fault_when_a_task_starts():
    simray.init(num_cpus=1)

    @simray.remote(max_retries=2)
    def train() -> str:
        time.sleep(1)
        return "trained"

    simray.sim.on_task_start("train", "crash_worker", times=2)
    assert simray.get(train.remote()) == "trained"
    with pytest.raises(ValueError, match=r"^fault must be 'crash_worker' or 'kill_node'"):
        simray.sim.on_task_start("train", "explode")


def test_actor_restarts_and_call_retries():
    simray.init(num_cpus=1)

    @simray.remote(max_restarts=1, max_task_retries=0)
    class Fragile:
        def __init__(self) -> None:
            self.calls = 0

        def ping(self) -> int:
            self.calls += 1
            return self.calls

        def die(self) -> None:
            os._exit(1)

    f = Fragile.remote()
    assert simray.get(f.ping.remote()) == 1
    with pytest.raises(ActorUnavailableError):
        simray.get(f.die.remote())
    assert simray.get(f.ping.remote()) == 1  # a fresh instance after the restart
    with pytest.raises(ActorDiedError, match="worker process has died"):
        simray.get(f.die.remote())

    @simray.remote(max_restarts=-1, max_task_retries=-1)
    class Patient:
        def slow(self) -> float:
            time.sleep(2)
            return simray.sim.now()

    p = Patient.remote()
    ref = p.slow.remote()
    simray.sim.kill_actor_process(p, at=1)
    assert simray.get(ref) == 3.0


def test_faults_refuse_bad_targets():
    simray.init(num_cpus=1)
    head = simray.nodes()[0]["NodeID"]
    with pytest.raises(ValueError, match=r"^the head node cannot be killed"):
        simray.sim.kill_node(head)
    time.sleep(2)
    ref = simray.remote(lambda: 1).remote()
    with pytest.raises(ValueError, match=r"^cannot schedule a fault in the past: at=1 < now=2.0"):
        simray.sim.crash_worker(ref, at=1)
