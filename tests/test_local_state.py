"""ray.util.state on the local backend: the driver answers from its task table, object table,
actors, nodes and worker processes, with the sim's fields and state values."""

from __future__ import annotations

import os

import pytest

import simray
from simray.util.state import (
    get_actor,
    get_task,
    list_actors,
    list_jobs,
    list_nodes,
    list_objects,
    list_placement_groups,
    list_tasks,
    list_workers,
    summarize_actors,
    summarize_tasks,
)
from tests.local_leaks import end_session_without_leaks

pytestmark = pytest.mark.xdist_group("local")


@pytest.fixture(autouse=True)
def _no_leaks():
    yield
    end_session_without_leaks()


@simray.remote
def echo(x):
    return x


@simray.remote
def boom():
    raise ValueError("no")


@simray.remote
def wait_for(signal):
    simray.get(signal.wait.remote())
    return os.getpid()


@simray.remote
class Keeper:
    def pid(self):
        return os.getpid()


@simray.remote(num_cpus=0, max_concurrency=2)
class Signal:
    def __init__(self):
        import threading

        self.event = threading.Event()

    def send(self):
        self.event.set()

    def wait(self):
        self.event.wait(60)


def _states(name):
    return sorted(t.state for t in list_tasks(filters=[("name", "=", name)]))


def test_tasks_actors_and_summaries_follow_the_driver():
    simray.init(backend="local", num_cpus=2)
    signal = Signal.remote()
    blocked = wait_for.remote(signal)
    simray.get(echo.remote(1))
    failed = boom.remote()
    with pytest.raises(ValueError):
        simray.get(failed)
    assert _states("echo") == ["FINISHED"]
    row = list_tasks(filters=[("name", "=", "boom")], detail=True)[0]
    assert (row.state, row.error_type, row.type) == (
        "FAILED",
        "TASK_EXECUTION_EXCEPTION",
        "NORMAL_TASK",
    )
    assert "no" in row.error_message
    assert row.end_time_ms >= row.start_time_ms
    running = list_tasks(filters=[("name", "=", "wait_for")])
    signal.send.remote()
    pid = simray.get(blocked)
    assert running[0].state in ("RUNNING", "PENDING_NODE_ASSIGNMENT")
    done = get_task(running[0].task_id)
    assert (done.state, done.worker_pid) == ("FINISHED", pid)
    keeper = Keeper.remote()
    actor_pid = simray.get(keeper.pid.remote())
    rows = {a.class_name: a for a in list_actors()}
    assert rows["Keeper"].state == "ALIVE"
    assert rows["Keeper"].pid == actor_pid
    assert get_actor(rows["Keeper"].actor_id).pid == actor_pid
    assert actor_pid in {w.pid for w in list_workers()}
    assert {w.worker_type for w in list_workers()} == {"DRIVER", "WORKER"}
    calls = list_tasks(filters=[("type", "=", "ACTOR_TASK"), ("name", "=", "Keeper.pid")])
    assert [c.state for c in calls] == ["FINISHED"]
    simray.kill(keeper)
    dead = get_actor(rows["Keeper"].actor_id)
    assert dead.state == "DEAD"
    summary = summarize_tasks()["cluster"]
    assert summary["summary"]["echo"]["state_counts"] == {"FINISHED": 1}
    assert summary["summary"]["boom"]["state_counts"] == {"FAILED": 1}
    assert summarize_actors()["cluster"]["summary"]["Keeper"]["state_counts"] == {"DEAD": 1}
    assert [n.state for n in list_nodes()] == ["ALIVE"]
    assert list_jobs()[0].driver_info.pid == str(os.getpid())


def test_placement_groups_are_listed():
    from simray.util.placement_group import placement_group

    simray.init(backend="local", num_cpus=2)
    pg = placement_group([{"CPU": 1}], name="pg1")
    simray.get(pg.ready())
    (row,) = list_placement_groups()
    assert (row.name, row.state, row.placement_group_id) == ("pg1", "CREATED", pg.id.hex())


def test_task_table_is_bounded_oldest_finished_first(monkeypatch):
    monkeypatch.setenv("RAY_task_events_max_num_task_in_gcs", "5")
    simray.init(backend="local", num_cpus=2)
    refs = [echo.remote(i) for i in range(20)]
    simray.get(refs)
    rows = list_tasks()
    assert len(rows) == 5
    assert {r.state for r in rows} == {"FINISHED"}
    signal = Signal.remote()
    blocked = wait_for.remote(signal)  # running: kept while finished ones make room
    for i in range(10):
        simray.get(echo.remote(i))
    rows = list_tasks()
    assert len(rows) == 5
    assert sorted(r.name for r in rows if r.state != "FINISHED") == ["Signal.wait", "wait_for"]
    signal.send.remote()
    simray.get(blocked)


def test_objects_follow_driver_references():
    simray.init(backend="local", num_cpus=1)
    kept = simray.put("kept")
    dropped = simray.put("dropped")
    ids = {kept.hex(), dropped.hex()}
    del dropped
    rows = [r for r in list_objects() if r.object_id in ids]
    assert [(r.object_id, r.reference_type, r.type) for r in rows] == [
        (kept.hex(), "LOCAL_REFERENCE", "DRIVER")
    ]
    rebuilt = simray.ObjectRef(kept.binary())
    del kept
    assert simray.get(rebuilt) == "kept"
    assert [r.reference_type for r in list_objects() if r.object_id == rebuilt.hex()] == [
        "LOCAL_REFERENCE"
    ]


def test_ref_rebuilt_from_an_actor_handle_id_is_the_handle():
    # As on sim and real Ray 2.60: the rebuilt ref keeps the ACTOR_HANDLE row, one per actor.
    simray.init(backend="local", num_cpus=1)
    keeper = Keeper.remote()
    simray.get(keeper.pid.remote())
    handle_id = "ff" * 8 + keeper._actor_id.hex() + "01000000"

    def rows():
        found = list_objects(filters=[("object_id", "=", handle_id)])
        return [(r.reference_type, r.type) for r in found]

    assert rows() == [("ACTOR_HANDLE", "DRIVER")]
    rebuilt = simray.ObjectRef(bytes.fromhex(handle_id))
    assert rows() == [("ACTOR_HANDLE", "DRIVER")]
    del keeper
    assert rows() == [("ACTOR_HANDLE", "DRIVER")]
    del rebuilt
    assert rows() == []
