"""Fake worker pids on sim: stable, deterministic, distinct from the host's; os.kill crashes."""

from __future__ import annotations

import os
import signal
import time

import pytest

import simray
from simray.exceptions import ActorDiedError, WorkerCrashedError


@simray.remote
def pid():
    return os.getpid()


@simray.remote
class A:
    def __init__(self):
        self.born_in = os.getpid()

    def pids(self):
        return self.born_in, os.getpid()


def test_pids_are_deterministic_and_not_the_hosts():
    def run():
        simray.init(num_cpus=2)
        try:
            actor = A.remote()
            return simray.get([pid.remote(), pid.remote(), actor.pids.remote()])
        finally:
            simray.shutdown()

    first = run()
    assert first == run()
    t1, t2, (born, serving) = first
    assert born == serving  # the constructor runs in the actor's process
    assert len({t1, born, os.getpid()}) == 3
    assert t2 not in (born, os.getpid())  # t1's worker or another: tasks that end at once share
    assert os.getpid() == os.getpid()  # restored after shutdown: the host's own


@simray.remote
def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


def test_workers_are_reused_but_never_shared_by_running_tasks():
    simray.init(num_cpus=3)
    together = simray.get([pid_after.remote(1) for _ in range(3)])
    assert len(set(together)) == 3  # three tasks running at once: three processes
    later = simray.get([pid_after.remote(1) for _ in range(3)])
    assert sorted(later) == sorted(together)  # the same three workers, idle again

    @simray.remote
    def parent():
        return os.getpid(), simray.get(pid_after.remote(0))

    outer, inner = simray.get(parent.remote())
    assert outer != inner  # a task blocked in get keeps its worker

    @simray.remote(max_retries=1)
    def dies_once(marker):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        return os.getpid()

    import tempfile

    marker = os.path.join(tempfile.mkdtemp(), "m")
    crashed_in = simray.get(pid.remote())  # the idle worker the retried task first runs in
    assert simray.get(dies_once.remote(marker)) != crashed_in  # a dead worker is never reused


def test_kill_by_pid_crashes_the_worker_and_restarts_get_a_new_pid():
    simray.init(num_cpus=2)
    actor = A.options(max_restarts=1, max_task_retries=0).remote()
    _, before = simray.get(actor.pids.remote())
    os.kill(before, signal.SIGTERM)
    time.sleep(1)  # the kill is asynchronous, as a signal is: let the process die first
    _, after = simray.get(actor.pids.remote())
    assert after != before
    os.kill(after, signal.SIGKILL)
    with pytest.raises(ActorDiedError):
        simray.get(actor.pids.remote())

    @simray.remote(max_retries=0)
    def suicide():
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(WorkerCrashedError):
        simray.get(suicide.remote())


def test_signal_zero_and_other_signals_leave_the_worker_alone():
    simray.init(num_cpus=1)
    actor = A.remote()
    _, p = simray.get(actor.pids.remote())
    os.kill(p, 0)
    os.kill(p, signal.SIGUSR1)
    assert simray.get(actor.pids.remote())[1] == p
