"""ray.util.state on sim: exact at every virtual instant, Ray's fields, states and filters."""

from __future__ import annotations

import time

import pytest

import simray
from simray.util.state import (
    get_actor,
    get_task,
    list_actors,
    list_jobs,
    list_nodes,
    list_placement_groups,
    list_tasks,
    list_workers,
    summarize_actors,
    summarize_tasks,
)


@simray.remote
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@simray.remote
def boom() -> None:
    raise ValueError("no")


@simray.remote
class Keeper:
    def ping(self) -> int:
        return 1


def _states(**filters: str) -> list[str]:
    return [t.state for t in list_tasks(filters=[(k, "=", v) for k, v in filters.items()])]


def test_task_states_follow_the_virtual_clock():
    simray.init(num_cpus=1)
    _first, second = nap.remote(10), nap.remote(10)
    time.sleep(1)
    assert _states(name="nap") == ["RUNNING", "PENDING_NODE_ASSIGNMENT"]
    time.sleep(10)
    assert _states(name="nap") == ["FINISHED", "RUNNING"]
    nap.remote(second)  # waits for its argument
    assert _states(state="pending_args_avail") == ["PENDING_ARGS_AVAIL"]
    simray.get(second)
    assert _states(name="nap") == ["FINISHED", "FINISHED", "RUNNING"]


def test_failed_task_has_ray_s_error_type_and_detail_columns():
    simray.init(num_cpus=1)
    ref = boom.remote()
    with pytest.raises(ValueError):
        simray.get(ref)
    [row] = list_tasks(filters=[("state", "=", "FAILED")], detail=True)
    assert row.error_type == "TASK_EXECUTION_EXCEPTION"
    assert row.type == "NORMAL_TASK"
    assert row.required_resources == {"CPU": 1.0}
    assert list_tasks(filters=[("state", "=", "FAILED")])[0].error_message is None  # as Ray
    assert get_task(row.task_id) == row


def test_actors_summaries_and_limits():
    simray.init(num_cpus=2)
    keepers = [Keeper.options(name=f"k{i}").remote() for i in range(3)]
    simray.get([k.ping.remote() for k in keepers])
    simray.kill(keepers[0])
    states = sorted(a.state for a in list_actors())
    assert states == ["ALIVE", "ALIVE", "DEAD"]
    assert len(list_actors(limit=2)) == 2
    assert [a.name for a in list_actors(filters=[("state", "!=", "ALIVE")])] == ["k0"]
    assert get_actor(keepers[1]._actor_id.hex()).name == "k1"
    summary = summarize_actors()["cluster"]
    assert summary["summary"]["Keeper"]["state_counts"] == {"ALIVE": 2, "DEAD": 1}
    tasks = summarize_tasks()["cluster"]
    assert tasks["total_actor_tasks"] == 3
    assert tasks["total_actor_scheduled"] == 3


def test_nodes_workers_jobs_and_placement_groups():
    simray.init(num_cpus=2)
    pg = simray.util.placement_group([{"CPU": 1}])
    simray.get(pg.ready())
    [node] = list_nodes()
    assert node.is_head_node
    assert node.state == "ALIVE"
    assert [w.worker_type for w in list_workers()] == ["DRIVER"]
    assert list_jobs()[0].status == "RUNNING"
    [group] = list_placement_groups(filters=[("state", "=", "CREATED")])
    assert group.placement_group_id == pg.id.hex()


def test_bad_filters_are_ray_s_errors():
    simray.init(num_cpus=1)
    with pytest.raises(ValueError, match="The given filter column bogus is not supported"):
        list_actors(filters=[("bogus", "=", "x")])
    with pytest.raises(ValueError, match="Unsupported filter predicate ~"):
        list_tasks(filters=[("state", "~", "x")])


def _kept() -> list[tuple[str, str]]:
    return sorted((row.name, row.state) for row in list_tasks())


def test_ended_tasks_are_evicted_oldest_finished_first_past_ray_s_cap(monkeypatch):
    # Ray's GCS keeps RAY_task_events_max_num_task_in_gcs tasks, dropping finished ones first
    # in the order they finished, then the oldest others; what is kept stays exact.
    monkeypatch.setenv("RAY_task_events_max_num_task_in_gcs", "3")
    simray.init(num_cpus=4)
    try:
        a = nap.options(name="a").remote(3)
        b = nap.options(name="b").remote(1)
        f = boom.options(name="f").remote()
        simray.wait([f])
        simray.get([a, b])  # b finished before a
        assert _kept() == [("a", "FINISHED"), ("b", "FINISHED"), ("f", "FAILED")]
        c = nap.options(name="c").remote(1)  # a fourth row: b, the oldest finished, goes
        assert _kept() == [("a", "FINISHED"), ("c", "RUNNING"), ("f", "FAILED")]
        simray.get(c)
        d = nap.options(name="d").remote(1)  # then a, though it was submitted before c
        assert _kept() == [("c", "FINISHED"), ("d", "RUNNING"), ("f", "FAILED")]
        g = boom.options(name="g").remote()  # c goes
        assert _kept() == [("d", "RUNNING"), ("f", "FAILED"), ("g", "RUNNING")]
        h = nap.options(name="h").remote(9)  # none finished: the oldest task goes, f
        assert _kept() == [("d", "RUNNING"), ("g", "RUNNING"), ("h", "RUNNING")]
        simray.wait([g])
        simray.get(d)
        i = nap.options(name="i").remote(1)  # d finished, so it goes before g
        assert _kept() == [("g", "FAILED"), ("h", "RUNNING"), ("i", "RUNNING")]
        del h, i
    finally:
        simray.shutdown()


def test_bad_task_cap_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RAY_task_events_max_num_task_in_gcs", "lots")
    with pytest.raises(ValueError, match="RAY_task_events_max_num_task_in_gcs.*'lots'"):
        simray.init(num_cpus=1)
    simray.shutdown()


@simray.remote
class Sleeper:
    def nap(self, seconds: float) -> None:
        time.sleep(seconds)


def test_actor_calls_are_evicted_before_tasks(monkeypatch):
    monkeypatch.setenv("RAY_task_events_max_num_task_in_gcs", "2")
    simray.init(num_cpus=4)
    try:
        t1 = nap.options(name="t1").remote(9)
        sleeper = Sleeper.remote()
        call = sleeper.nap.remote(5)  # with Sleeper.__init__, Ray's actor tier
        t2 = nap.options(name="t2").remote(9)  # none finished: the actor tier goes first
        assert sorted(row.name for row in list_tasks()) == ["t1", "t2"]
        simray.get([t1, t2, call])
    finally:
        simray.shutdown()


def test_list_objects_follows_python_references():
    simray.init(num_cpus=1)
    kept = simray.put([1, 2])
    dropped = simray.put([3])
    dropped_id = dropped.hex()
    del dropped
    ids = {r.object_id: r for r in simray.util.state.list_objects()}
    assert kept.hex() in ids
    assert dropped_id not in ids
    assert ids[kept.hex()].reference_type == "LOCAL_REFERENCE"
    holder = simray.put({"inner": kept})
    kept_id = kept.hex()
    del kept
    row = simray.util.state.get_objects(kept_id)
    assert [r.reference_type for r in row] == ["CAPTURED_IN_OBJECT"]
    del holder
    assert simray.util.state.get_objects(kept_id) is None


def test_ref_rebuilt_from_an_actor_handle_id_is_the_handle():
    # Real Ray 2.60 (checked with its dashboard): one ACTOR_HANDLE row for the handle, for the
    # handle and a ref rebuilt from the row's id, and for the rebuilt ref alone; none after.
    simray.init(num_cpus=1)
    keeper = Keeper.remote()
    simray.get(keeper.ping.remote())

    def rows(object_id):
        found = simray.util.state.list_objects(filters=[("object_id", "=", object_id)])
        return [(r.reference_type, r.type, r.object_size) for r in found]

    (handle_id,) = [
        r.object_id for r in simray.util.state.list_objects() if r.reference_type == "ACTOR_HANDLE"
    ]
    assert handle_id == "ff" * 8 + keeper._actor_id.hex() + "01000000"
    assert rows(handle_id) == [("ACTOR_HANDLE", "DRIVER", -1)]
    rebuilt = simray.ObjectRef(bytes.fromhex(handle_id))
    assert rows(handle_id) == [("ACTOR_HANDLE", "DRIVER", -1)]
    del keeper
    assert rows(handle_id) == [("ACTOR_HANDLE", "DRIVER", -1)]
    del rebuilt
    assert rows(handle_id) == []


def test_rebuilt_ref_names_the_same_object_and_keeps_it():
    simray.init(num_cpus=1)
    ref = nap.remote(2)
    rebuilt = simray.ObjectRef(ref.binary())
    del ref
    assert rebuilt == simray.ObjectRef(rebuilt.binary())
    assert simray.get(rebuilt) == 2
    with pytest.raises(simray.exceptions.GetTimeoutError):
        simray.get(simray.ObjectRef(b"\x07" * 28), timeout=5)


def test_task_times_and_events_follow_the_virtual_clock():
    simray.init(num_cpus=1)
    simray.get([nap.remote(2), nap.remote(3)])
    first, second = list_tasks(filters=[("name", "=", "nap")], detail=True)
    assert first.end_time_ms - first.start_time_ms == 2000
    assert second.start_time_ms == first.end_time_ms  # it waited for the one CPU
    assert second.end_time_ms - second.start_time_ms == 3000
    assert [e["state"] for e in second.events][-2:] == ["RUNNING", "FINISHED"]
    assert second.events[-1]["created_ms"] == second.end_time_ms
    assert list_tasks(filters=[("name", "=", "nap")])[0].start_time_ms is None  # detail only


def test_every_function_has_ray_s_signature():
    """Each function takes Ray's parameters (names, order, kinds, defaults), so a call written
    for Ray binds the same way here and passes through unchanged on the `ray` backend."""
    import inspect

    ray_state = pytest.importorskip("ray.util.state")
    for name in simray.util.state.__all__:
        ours = inspect.signature(getattr(simray.util.state, name)).parameters
        rays = inspect.signature(getattr(ray_state, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == [
            (p.name, p.kind, p.default) for p in rays.values()
        ], name


def test_ended_actor_call_rows_keep_the_worker_they_ran_on():
    """A call's row, once it ended, shows the actor's worker of that time: a call answered
    before a restart keeps the old worker id, one after has the new; a failed call is FAILED."""
    import simray.sim

    simray.init(num_cpus=2)
    keeper = Keeper.options(max_restarts=1).remote()
    simray.get(keeper.ping.remote())
    simray.sim.kill_actor_process(keeper)
    simray.get(keeper.ping.remote())
    simray.kill(keeper, no_restart=True)
    with pytest.raises(simray.exceptions.RayActorError):
        simray.get(keeper.ping.remote())
    rows = list_tasks(filters=[("name", "=", "Keeper.ping")], detail=True)
    assert [r.state for r in rows] == ["FINISHED", "FINISHED", "FAILED"]
    assert rows[0].worker_id != rows[1].worker_id
    assert rows[0].node_id == rows[1].node_id
    assert rows[2].error_type == "ACTOR_DIED"
    assert len({r.actor_id for r in rows}) == 1


def test_list_objects_skips_units_and_refs_whose_constructor_was_interrupted():
    # The livelock guard raises asynchronously, so it can stop a constructor half-way; the
    # error's traceback keeps that object alive, and gc.get_objects() finds it in later runs.
    from simray._sim.actors import ActorCall
    from simray._sim.objects import SimRef
    from simray._sim.tasks import Task

    half_built = [ActorCall.__new__(ActorCall), Task.__new__(Task), SimRef.__new__(SimRef)]
    simray.init(num_cpus=1)
    kept = simray.put([1])
    rows = simray.util.state.list_objects()
    assert [r.object_id for r in rows] == [kept.hex()]
    assert simray.get(simray.ObjectRef(kept.binary())) == [1]
    del half_built


def test_rebuilt_ref_skips_a_ref_stopped_after_its_id_was_set():
    # `new_ref` sets the id first: a ref the livelock guard stopped right after has an id but
    # no epoch. Rebuilding an id scans every object, so it meets that ref and must skip it.
    from simray import _ids
    from simray._sim.objects import SimRef

    simray.init(num_cpus=1)
    kept = simray.put([1])
    gone = simray.put([2])
    gone_id = gone.binary()
    del gone
    half = [SimRef.__new__(SimRef), SimRef.__new__(SimRef)]
    half[0]._id = _ids.current.object_number(kept.binary())
    half[1]._id = _ids.current.object_number(gone_id)
    assert simray.get(simray.ObjectRef(kept.binary())) == [1]
    with pytest.raises(simray.exceptions.GetTimeoutError):
        simray.get(simray.ObjectRef(gone_id), timeout=5)
    del half
