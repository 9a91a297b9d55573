"""Worker output on the driver (`simray._output`, `_sim.output`): the `(name pid=N)` prefix as
Ray 2.60 prints it, with the sim's fake pids; conformance 171 and 172 check it against Ray."""

from __future__ import annotations

import os
import sys
import threading

import pytest

import simray
from simray import _output

CYAN, RESET = "\x1b[36m", "\x1b[0m"


@pytest.fixture(autouse=True)
def _ray_output_env(monkeypatch):
    for key in ("RAY_COLOR_PREFIX", "RAY_DISABLE_WORKER_LOG_PREFIX", "RAY_LOG_TO_DRIVER"):
        monkeypatch.delenv(key, raising=False)


def test_prefix_as_ray_prints_it(monkeypatch):
    assert _output.prefix("f", 12) == f"{CYAN}(f pid=12){RESET} "
    assert _output.prefix("f", 12, "10.0.0.2") == f"{CYAN}(f pid=12, ip=10.0.0.2){RESET} "
    assert _output.prefix(None, 12) == f"{CYAN}(pid=12){RESET} "
    monkeypatch.setenv("RAY_COLOR_PREFIX", "0")
    assert _output.prefix("f", 12) == "(f pid=12) "
    monkeypatch.setenv("RAY_COLOR_PREFIX", "1")
    assert _output.prefix("f", 15) == "\x1b[90m(f pid=15)\x1b[0m "  # Ray's colours[15 % 6]
    monkeypatch.setenv("RAY_DISABLE_WORKER_LOG_PREFIX", "true")
    assert _output.prefix("f", 12) == ""


def test_info_message_lines_and_labels():
    assert _output.format_lines(["x:info_message:shown", ""], "t", 1, None) == (
        f"{CYAN}(t pid=1){RESET} shown\n{CYAN}(t pid=1){RESET} \n"
    )
    assert _output.task_label("f()") == "f"

    class Plain:
        pass

    class Shown:
        def __repr__(self):
            return "Shown!"

    assert _output.actor_label(Plain(), Plain, True) == "Plain"
    assert _output.actor_label(Shown(), Shown, False) == "Shown"  # __init__ still running
    assert _output.actor_label(Shown(), Shown, True) == "Shown!"


def test_task_and_actor_lines_carry_their_fake_pid(capsys):
    simray.init(num_cpus=2)

    @simray.remote
    def hello():
        print("hi", end="")
        print(" there")
        print("oops", file=sys.stderr)
        return os.getpid()

    @simray.remote
    class A:
        def __init__(self):
            print("building")

        def __repr__(self):
            return "A(built)"

        def say(self):
            print("said")
            return os.getpid()

    pid = simray.get(hello.remote())
    a = A.remote()
    apid = simray.get(a.say.remote())
    print("driver line")
    simray.shutdown()
    out, err = capsys.readouterr()
    assert out == (
        f"{CYAN}(hello pid={pid}){RESET} hi there\n"
        f"{CYAN}(A pid={apid}){RESET} building\n"
        f"{CYAN}(A(built) pid={apid}){RESET} said\n"
        "driver line\n"
    )
    assert err == f"{CYAN}(hello pid={pid}){RESET} oops\n"
    assert pid != apid
    assert pid != os.getpid()


def test_other_nodes_show_their_ip_and_partial_lines_come_out_at_shutdown(capsys):
    from simray.cluster import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    cluster.add_node(num_cpus=1)
    simray.init(address=cluster.address)

    @simray.remote
    def where():
        print("no newline yet", end="")
        return os.getpid()

    pid = simray.get(where.remote())
    simray.shutdown()
    cluster.shutdown()
    out, _ = capsys.readouterr()
    assert out == f"{CYAN}(where pid={pid}, ip=127.0.0.2){RESET} no newline yet\n"


def test_log_to_driver_false_and_its_environment_variable(capsys, monkeypatch):
    @simray.remote
    def talk():
        print("talking")

    simray.init(num_cpus=1, log_to_driver=False)
    simray.get(talk.remote())
    simray.shutdown()
    monkeypatch.setenv("RAY_LOG_TO_DRIVER", "0")
    simray.init(num_cpus=1)
    simray.get(talk.remote())
    simray.shutdown()
    assert capsys.readouterr().out == ""


def test_library_threads_write_through_unprefixed_and_streams_come_back(capsys):
    """A thread a task starts is not one of the simulator's units: its lines reach the driver
    as they are (on Ray they would carry the worker's prefix; the README states the limit)."""
    before = sys.stdout
    simray.init(num_cpus=1)
    assert sys.stdout is not before

    @simray.remote
    def from_a_thread():
        t = threading.Thread(target=print, args=("a library thread",))
        t.start()
        t.join()

    simray.get(from_a_thread.remote())
    simray.shutdown()
    assert sys.stdout is before
    assert capsys.readouterr().out == "a library thread\n"
