"""The sim backend's per-task record keeps only what it cannot derive: the state API's times,
a task's demand, strategy and scheduling class, plain arguments and env_vars are read off
other fields, and must read the same as when each was stored per task."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simray
from simray._sim.tasks import SubmitTimes
from simray.util.placement_group import placement_group
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
from simray.util.state import list_tasks


@given(
    st.lists(st.tuples(st.integers(1, 3), st.sampled_from([0.0, 0.0, 0.5, 2.0])), max_size=60),
    st.integers(0, 70),
)
def test_submit_times_answer_every_id_as_if_stored_per_task(steps, forget_at):
    """Ids grow, the clock never goes back: each id reads the instant it was noted at, also
    after the steps below an id are forgotten (for the ids from there on)."""
    times = SubmitTimes(limit=4)
    stored: dict[int, float] = {}
    task_id, now = 0, 0.0
    for gap, advance in steps:
        task_id += gap
        now += advance
        if now != times.last:
            times.note(task_id, now)
        stored[task_id] = now
    times.forget_before(forget_at)
    assert {i: times.of(i) for i in stored if i >= forget_at} == {
        i: t for i, t in stored.items() if i >= forget_at
    }


@simray.remote
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_rows_keep_their_creation_times_while_old_steps_are_forgotten(monkeypatch):
    """With the table capped at 3 rows, 30 tasks submitted one virtual second apart: the rows
    kept show the second each was submitted, and when each started and ended."""
    monkeypatch.setenv("RAY_task_events_max_num_task_in_gcs", "3")
    simray.init(num_cpus=1)
    for _ in range(30):
        nap.remote(0.5)
        time.sleep(1)
    rows = list_tasks(detail=True)
    assert [r.creation_time_ms for r in rows] == [27000, 28000, 29000]
    assert [(r.start_time_ms, r.end_time_ms) for r in rows] == [
        (27000, 27500),
        (28000, 28500),
        (29000, 29500),
    ]
    assert [e["created_ms"] for e in rows[0].events] == [
        27000.0,
        27000.0,
        27000.0,
        27000.0,
        27500.0,
    ]


def test_queued_and_running_rows_show_their_times():
    simray.init(num_cpus=1)
    time.sleep(4)
    nap.remote(10), nap.remote(10)
    time.sleep(3)
    running, queued = list_tasks(detail=True)
    assert (running.state, running.creation_time_ms, running.start_time_ms) == (
        "RUNNING",
        4000,
        4000,
    )
    assert running.end_time_ms is None
    assert (queued.state, queued.creation_time_ms, queued.start_time_ms) == (
        "PENDING_NODE_ASSIGNMENT",
        4000,
        None,
    )


attempts: list[str | None] = []


@simray.remote(max_retries=1, retry_exceptions=True, runtime_env={"env_vars": {"FLAVOUR": "x"}})
def flaky() -> str | None:
    attempts.append(os.environ.get("FLAVOUR"))
    if len(attempts) == 1:
        raise ValueError("first attempt fails")
    return os.environ.get("FLAVOUR")


def test_a_retried_task_keeps_its_env_vars():
    attempts.clear()
    simray.init(num_cpus=1)
    assert simray.get(flaky.remote()) == "x"
    assert attempts == ["x", "x"]
    assert "FLAVOUR" not in os.environ  # the driver's environment is its own


@simray.remote(num_cpus=1)
def child() -> str | None:
    return simray.get_runtime_context().get_placement_group_id()


@simray.remote(num_cpus=1)
def parent() -> str | None:
    return simray.get(child.remote())


def test_a_captured_child_runs_and_is_listed_in_its_parent_s_group():
    simray.init(num_cpus=4)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}])
    simray.get(pg.ready())
    strategy = PlacementGroupSchedulingStrategy(pg, placement_group_capture_child_tasks=True)
    assert simray.get(parent.options(scheduling_strategy=strategy).remote()) == pg.id.hex()
    assert simray.get(child.remote()) is None  # the options of the function are untouched
    rows = list_tasks(filters=[("name", "=", "child")], detail=True)
    assert [r.placement_group_id for r in rows] == [pg.id.hex(), None]
    with pytest.raises(simray.exceptions.GetTimeoutError):  # the group holds 2 CPUs of 4
        simray.get([nap.options(num_cpus=3).remote(1)], timeout=0.5)


def _all_slots(cls: type) -> list[str]:
    return [name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())]


def test_make_task_sets_every_field_of_a_task_and_its_return():
    """`Task()` and `SimRef()` only allocate, so `make_task` must set every slot (Unit's too)
    and every slot of the return it makes: a slot left unset would raise AttributeError only on
    the path that reads it first."""
    from simray._options import TaskOptions
    from simray._sim.objects import PENDING, SimRef
    from simray._sim.tasks import NO_KWARGS, QUEUED, Task, make_task

    opts = TaskOptions({"max_retries": 2}, "f")
    for task in (make_task(7, len, (1, "a"), opts), make_task(8, len, [1], opts)):
        missing = [name for name in _all_slots(Task) if not hasattr(task, name)]
        assert missing == []
        (ref,) = task.returns
        own = [name for name in SimRef.__slots__ if name != "__weakref__"]
        assert [name for name in own if not hasattr(ref, name)] == []
        assert (ref._id, ref.state, ref.task, ref.owner) == (task.task_id, PENDING, task, None)
    assert (task.retries_left, task.kwargs, task.state, task.parent) == (2, NO_KWARGS, QUEUED, None)


_demands = st.lists(st.sampled_from([("CPU", 10000), ("GPU", 10000), ("memory", 5)]), unique=True)
_strategy_keys = st.sampled_from([None, "SPREAD", ("pg", 1), ("affinity", "n1", True, False)])


@given(st.lists(st.tuples(_demands, _strategy_keys), min_size=1, max_size=8))
def test_a_scheduling_class_is_one_object_per_equal_key(keys):
    """Queues are keyed by class identity, so equal demands and strategies must give the same
    object and different ones different objects, as equal and unequal tuples did."""
    from simray._options import SchedulingClass

    made = [(SchedulingClass.of(tuple(sorted(d)), s), (tuple(sorted(d)), s)) for d, s in keys]
    for cls_a, key_a in made:
        for cls_b, key_b in made:
            assert (cls_a is cls_b) == (key_a == key_b)
            assert (cls_a == cls_b) == (key_a == key_b)


def test_tasks_of_equal_options_share_one_scheduling_class():
    from simray._options import TaskOptions

    one = TaskOptions({"num_cpus": 1}, "f")
    assert TaskOptions({}, "g").sched_key is one.sched_key
    assert TaskOptions({"num_cpus": 2}, "f").sched_key is not one.sched_key
    assert TaskOptions({"scheduling_strategy": "SPREAD"}, "f").sched_key is not one.sched_key


def test_new_ref_sets_every_field_of_a_ref():
    """`SimRef()` only allocates, so `new_ref` must set every slot of its own (ObjectRef's
    `_held` is left unset on purpose: `binary()` reads it with a default)."""
    from simray._sim.objects import PENDING, SimRef, new_ref

    ref = new_ref(5, "task")
    own = [name for name in SimRef.__slots__ if name != "__weakref__"]
    assert [name for name in own if not hasattr(ref, name)] == []
    assert (ref._id, ref.state, ref.task, ref.owner) == (5, PENDING, "task", None)


def test_rare_fields_read_their_default_until_a_task_sets_them():
    """Few tasks set `kwargs`, `retries_left`, `attempt`, `cancelled`, `deps_left` or
    `children`, so a task keeps them in one `rare` dict made at its first write."""
    from simray._options import TaskOptions
    from simray._sim.tasks import NO_KWARGS, make_task

    opts = TaskOptions({"max_retries": 3}, "f")
    task, other = make_task(1, len, (), opts), make_task(2, len, (), opts)
    fields = ("kwargs", "retries_left", "attempt", "cancelled", "deps_left", "children")
    assert [getattr(task, f) for f in fields] == [NO_KWARGS, 3, 0, False, 0, None]
    assert task.rare is None
    task.retries_left -= 1
    task.attempt += 1
    task.children = {other: None}
    assert [getattr(task, f) for f in fields] == [NO_KWARGS, 2, 1, False, 0, {other: None}]
    assert (other.rare, other.retries_left, other.attempt) == (None, 3, 0)
