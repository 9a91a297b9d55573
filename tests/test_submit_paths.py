"""The sim backend submits the commonest call on a fast path (`SimBackend.submit_task`); what a
program and the state API see must not depend on which path a call took. A session with a trace
(`init(trace=True)`) takes the general path for every call, so each check runs both ways."""

from __future__ import annotations

import pytest

import simray
from simray.util.state import list_objects, list_tasks


@simray.remote
def double(x: int) -> int:
    return 2 * x


@simray.remote
class Submitter:
    def submit(self) -> simray.ObjectRef:
        self.ref = double.remote(21)  # kept alive here, so list_objects lists it
        simray.get(self.ref)
        return self.ref.hex()


def _observe(trace: bool) -> dict[str, object]:
    simray.init(num_cpus=2, _latency=0, trace=trace or None)
    try:
        from_driver = [double.remote(i) for i in range(4)]
        held = simray.get(from_driver)
        submitter = Submitter.remote()
        from_actor = simray.get(submitter.submit.remote())
        objects = {row["object_id"]: row for row in list_objects(detail=True)}
        tasks = sorted(
            (row["name"], row["state"], row["parent_task_id"] is None)
            for row in list_tasks(detail=True)
        )
        return {
            "values": held,
            "from_actor": {k: objects[from_actor][k] for k in ("type", "ip", "task_status")},
            "from_driver": {k: objects[from_driver[0].hex()][k] for k in ("type", "ip")},
            "tasks": tasks,
        }
    finally:
        simray.shutdown()


@pytest.mark.parametrize("trace", [False, True])
def test_a_task_submitted_by_an_actor_is_owned_by_its_worker(trace):
    """Ray's owner of an object a task returns is the submitter: a worker for a task submitted
    by an actor method, whichever path submitted it."""
    seen = _observe(trace)
    assert seen["from_actor"]["type"] == "WORKER"
    assert seen["from_driver"]["type"] == "DRIVER"


def test_the_fast_path_shows_what_the_general_path_shows():
    assert _observe(trace=False) == _observe(trace=True)


def test_the_fast_path_makes_the_task_make_task_makes():
    """`submit_task` writes `make_task` out for the commonest call: a queued task it made must
    have every field (Unit's too) and its return every field as `make_task` sets them."""
    from simray import _session
    from simray._sim.objects import SimRef
    from simray._sim.tasks import Task, make_task

    simray.init(num_cpus=1, _latency=0)
    try:
        refs = [double.remote(i) for i in range(3)]  # one CPU: the last ones queue
        fast = _session._active.task_table[refs[-1]._id]
        made = make_task(fast.task_id, fast.fn, fast.args, fast.opts)
        slots = [name for klass in Task.__mro__ for name in getattr(klass, "__slots__", ())]
        assert [n for n in slots if not hasattr(fast, n)] == []
        differ = [n for n in slots if n != "ret" and getattr(fast, n) != getattr(made, n)]
        assert differ == []
        (ref,) = fast.returns
        (made_ref,) = made.returns
        assert ref is refs[-1]
        assert (ref.task, made_ref.task) == (fast, made)
        own = [n for n in SimRef.__slots__ if n not in ("__weakref__", "task")]
        assert [n for n in own if getattr(ref, n) != getattr(made_ref, n)] == []
        assert simray.get(refs) == [0, 2, 4]
    finally:
        simray.shutdown()
