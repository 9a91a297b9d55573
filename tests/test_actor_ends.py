"""What of a sim actor runs when its process ends, as in Ray 2.60 (conformance 200 shows it
against Ray; exp. for sys.exit/os._exit/SIGKILL): a graceful end (`exit_actor`,
`__ray_terminate__`, out of scope, `sys.exit` in a method) deletes the instance, so `__del__`
runs, then the atexit handlers, last first, printed as the actor; a kill (`ray.kill`, SIGKILL,
`os._exit`, a restart after a crash) runs neither, yet what the instance held is freed."""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
import time
import weakref

import pytest

import simray
from simray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError
from simray.util.state import list_actors

ENDED: list[str] = []
INSTANCES: weakref.WeakSet = weakref.WeakSet()  # live actor instances, held by nothing here


def _alive(tag: str) -> int:
    """How many instances tagged `tag` are still in memory (other tests' sessions may keep
    theirs until collected)."""
    gc.collect()
    return sum(1 for i in list(INSTANCES) if i.tag == tag)


@pytest.fixture(autouse=True)
def _fresh():
    ENDED.clear()
    yield
    ENDED.clear()


class _Base:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        INSTANCES.add(self)
        atexit.register(ENDED.append, f"first handler {tag}")
        atexit.register(ENDED.append, f"second handler {tag}")

    def ping(self) -> str:
        return self.tag

    def leave(self) -> None:
        simray.actor.exit_actor()

    def end(self, how: str) -> str:
        if how == "os._exit":
            os._exit(0)
        if how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "sys.exit":
            sys.exit(0)
        if how == "sys.exit(1)":
            sys.exit(1)
        if how == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        return "still here"

    def pid(self) -> int:
        return os.getpid()

    def __del__(self) -> None:
        ENDED.append(f"__del__ {self.tag}")


Res = simray.remote(num_cpus=0)(_Base)


@simray.remote(num_cpus=0)
class Slotted:
    __slots__ = ("tag", "__weakref__")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        INSTANCES.add(self)

    def ping(self) -> str:
        return self.tag

    def __del__(self) -> None:
        ENDED.append(f"__del__ {self.tag}")


def _graceful(tag: str) -> list[str]:
    return [f"__del__ {tag}", f"second handler {tag}", f"first handler {tag}"]


def test_ray_kill_runs_neither_del_nor_atexit_but_frees_the_instance():
    simray.init(num_cpus=1)
    for cls in (Res, Slotted):  # __slots__: the instance's class still changes
        a = cls.remote("killed")
        simray.get(a.ping.remote())
        simray.kill(a)
        with pytest.raises(ActorDiedError, match="killed by `ray.kill`"):
            simray.get(a.ping.remote())
        assert _alive("killed") == 0  # what it held went with its process
        assert ENDED == []


@pytest.mark.parametrize("how", ["exit_actor", "__ray_terminate__", "out of scope", "sys.exit"])
def test_graceful_ends_delete_the_instance_then_run_the_handlers(how, capsys):
    simray.init(num_cpus=1)
    a = Res.remote(how)
    simray.get(a.ping.remote())
    if how == "exit_actor":
        with pytest.raises(ActorDiedError):
            simray.get(a.leave.remote())
    elif how == "__ray_terminate__":
        simray.get(a.__ray_terminate__.remote())
    elif how == "sys.exit":
        with pytest.raises(RayActorError):
            simray.get(a.end.remote("sys.exit"))
    else:
        del a
        simray.get(Res.remote("other").ping.remote())  # the driver yields: the end runs
    assert ENDED[:3] == _graceful(how)


@pytest.mark.parametrize("how", ["os._exit", "sigkill"])
def test_a_process_killed_from_inside_runs_nothing_and_its_call_fails(how):
    simray.init(num_cpus=1)
    a = Res.remote(how)
    simray.get(a.ping.remote())
    with pytest.raises(ActorDiedError):  # SIGKILL of its own pid: the call does not return
        simray.get(a.end.remote(how))
    assert _alive(how) == 0
    assert ENDED == []


def test_a_restart_after_a_crash_does_not_finalize_the_old_instance():
    simray.init(num_cpus=1)
    a = Res.options(max_restarts=1).remote("restarted")
    simray.get(a.ping.remote())
    with pytest.raises(RayActorError):
        simray.get(a.end.remote("os._exit"))
    assert simray.get(a.ping.remote()) == "restarted"  # the new incarnation
    assert _alive("restarted") == 1
    assert ENDED == []


def test_an_out_of_scope_end_prints_with_the_actors_prefix(capsys):
    @simray.remote(num_cpus=0)
    class Printer:
        def ping(self) -> int:
            return 1

        def __del__(self) -> None:
            print("deleted")

    simray.init(num_cpus=1)
    p = Printer.remote()
    simray.get(p.ping.remote())
    del p
    simray.get(Res.remote("other").ping.remote())
    simray.shutdown()
    out = capsys.readouterr().out
    assert "(Printer pid=" in out
    assert out.rstrip().endswith("deleted")


@pytest.mark.parametrize("cpus", [0, 1])
def test_a_constructor_that_raises_with_explicit_cpus_fails_its_callers(cpus):
    # With num_cpus given, the actor keeps what its creation task was placed with; a raising
    # constructor made the task's end read a node it no longer had (AttributeError).
    @simray.remote(num_cpus=cpus)
    class Broken:
        def __init__(self) -> None:
            raise ValueError("no")

        def ping(self) -> int:
            return 1

    simray.init(num_cpus=1)
    for _ in range(2):
        with pytest.raises(ActorDiedError, match="error raised in its creation task"):
            simray.get(Broken.remote().ping.remote())
    assert simray.available_resources()["CPU"] == 1.0


@pytest.mark.parametrize(("how", "restarts"), [("sys.exit", False), ("os._exit", True)])
def test_sys_exit_0_is_an_intended_exit_and_os_exit_a_crash(how, restarts):
    # Ray 2.60 (conformance 202): sys.exit(0) in a method ends the actor for good, whatever
    # max_restarts; os._exit (as sys.exit(1)) restarts it.
    simray.init(num_cpus=1)
    a = Res.options(max_restarts=1).remote(how)
    simray.get(a.ping.remote())
    with pytest.raises(RayActorError):
        simray.get(a.end.remote(how))
    if restarts:
        assert simray.get(a.ping.remote()) == how
    else:
        with pytest.raises(ActorDiedError, match="INTENDED_USER_EXIT"):
            simray.get(a.ping.remote())


@pytest.mark.parametrize("backend", ["sim", "local"])
@pytest.mark.parametrize(
    "how", ["ray.kill", "exit_actor", "__ray_terminate__", "sys.exit", "sys.exit(1)", "sigterm"]
)
def test_the_pid_in_the_error_and_death_cause_is_the_one_the_actor_saw(how, backend):
    # Ray 2.60: its ActorDiedError and list_actors' death_cause name the worker's pid, the one
    # os.getpid() gave inside the actor (and its output prefix shows); local's is its process's.
    simray.init(backend=backend, num_cpus=1)
    other = Res.remote("other")  # another process: its pid must not be the one named
    a = Res.remote(how)
    pids = simray.get([other.pid.remote(), a.pid.remote()])
    assert pids[0] != pids[1]
    if how == "ray.kill":
        simray.kill(a)
    elif how == "exit_actor":
        with pytest.raises(ActorDiedError):
            simray.get(a.leave.remote())
    elif how == "__ray_terminate__":
        simray.get(a.__ray_terminate__.remote())
    else:
        with pytest.raises(ActorDiedError):
            simray.get(a.end.remote(how))
    with pytest.raises(ActorDiedError) as died:
        simray.get(a.ping.remote())
    assert f"\tpid: {pids[1]}\n" in str(died.value)
    rows: list = []
    for _ in range(300):  # local: the row is dead once the process is gone (as in Ray)
        rows = [r for r in list_actors(detail=True) if r["state"] == "DEAD"]
        if rows:
            break
        time.sleep(0.1)
    [row] = rows
    assert row["death_cause"]["actor_died_error_context"]["pid"] == pids[1]


def test_sigterm_to_itself_exits_gracefully_with_code_1():
    # Ray 2.60 (conformance 206): the worker's SIGTERM handler raises SystemExit(1): __del__
    # and the atexit handlers run; an in-flight call is told why, and the actor restarts while
    # max_restarts lasts, else it is dead with that detail.
    simray.init(num_cpus=1)
    said = "Worker exits with an exit code 1. The process receives a SIGTERM."
    a = Res.options(max_restarts=1).remote("term")
    first = simray.get(a.pid.remote())
    with pytest.raises(ActorUnavailableError, match=f"UnexpectedSystemExit: {said}"):
        simray.get(a.end.remote("sigterm"))
    assert ENDED[:3] == _graceful("term")
    assert simray.get(a.pid.remote()) != first  # a new process
    with pytest.raises(ActorDiedError) as died:
        simray.get(a.end.remote("sigterm"))
    assert f"SYSTEM_ERROR Worker exit detail: Worker exits unexpectedly. {said}" in str(died.value)


def test_sigterm_to_itself_on_local_exits_with_code_1_and_says_so():
    # Ray 2.60 (conformance 206 checks the finalizers): a local actor's process handles SIGTERM
    # as Ray's worker does, SystemExit(1): the in-flight call is told why while it restarts,
    # then, no restart left, the actor is dead with that detail (was a lost connection).
    simray.init(backend="local", num_cpus=1)
    said = "Worker exits with an exit code 1. The process receives a SIGTERM."
    a = Res.options(max_restarts=1).remote("term")
    first = simray.get(a.pid.remote())
    with pytest.raises(ActorUnavailableError, match=f"UnexpectedSystemExit: {said}"):
        simray.get(a.end.remote("sigterm"))
    assert simray.get(a.pid.remote(), timeout=30) != first  # a new process
    with pytest.raises(ActorDiedError) as died:
        simray.get(a.end.remote("sigterm"))
    assert f"SYSTEM_ERROR Worker exit detail: Worker exits unexpectedly. {said}" in str(died.value)
