"""Cross-process reference counts on the local backend: an object, and its shared-memory
segment, are freed once no driver ref, no worker and no live value uses it; never before.

Workers report the refs they let go of to the driver in batches ("release" messages), so the
counts below are read after the driver has had them: `_settled` waits for the table to stop
shrinking instead of assuming a delay.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simray
from simray import _session
from tests.local_leaks import end_session_without_leaks, shm_segments

pytestmark = pytest.mark.xdist_group("local")

BIG = 2_000_000  # over the 1 MiB threshold: these values move through shared memory


@pytest.fixture(autouse=True)
def _no_leaks():
    yield
    end_session_without_leaks()


@simray.remote
def head_sum(x):
    return int(x[:10].sum())


@simray.remote
def nested_sum(box):
    return int(simray.get(box[0])[:10].sum())


@simray.remote
def make(fill):
    return np.full(BIG, fill, dtype=np.uint8)


@simray.remote
def wrap(fill):
    """A value made in a worker that names another object made there."""
    return [simray.put(np.full(BIG, fill, dtype=np.uint8))]


@simray.remote
class Keeper:
    def __init__(self):
        self.kept = {}

    def keep(self, key, box):
        self.kept[key] = box
        return True

    def drop(self, key):
        del self.kept[key]

    def read(self, key):
        return int(simray.get(self.kept[key][0])[:10].sum())


def _entries() -> int:
    return len(_session.backend().table.entries)


def _settled(limit: int) -> int:
    """The table's size once the workers' releases have arrived (at most `limit` entries
    expected; waits up to 30 s for it to get there, returns the size either way)."""
    deadline = time.monotonic() + 30
    while _entries() > limit and time.monotonic() < deadline:
        time.sleep(0.02)
    return _entries()


def test_large_objects_sent_to_tasks_do_not_pile_up_in_shared_memory():
    simray.init(backend="local", num_cpus=2)
    seen = []
    for i in range(25):
        fill = i % 7
        ref = simray.put(np.full(BIG, fill, dtype=np.uint8))
        assert simray.get(head_sum.remote(ref)) == 10 * fill  # a top-level argument
        assert simray.get(nested_sum.remote([ref])) == 10 * fill  # a ref nested in one
        made = make.remote(fill)  # a worker's large result, sent on to another task
        assert simray.get(head_sum.remote(made)) == 10 * fill
        del ref, made
        seen.append(len(shm_segments(os.getpid())))
    # Each round's two segments are gone by the next; the driver keeps at most a few freed
    # segments mapped for reuse (see shm.Arena), never one per round.
    assert max(seen) <= 10, seen
    assert _settled(0) == 0


def test_values_a_worker_or_a_value_holds_stay_readable():
    simray.init(backend="local", num_cpus=2)
    keeper = Keeper.remote()
    ref = simray.put(np.full(BIG, 3, dtype=np.uint8))
    simray.get(keeper.keep.remote("a", [ref]))
    outer = simray.put([ref])  # a value naming it
    del ref
    assert simray.get(keeper.read.remote("a")) == 30
    assert simray.get(nested_sum.remote(simray.get(outer))) == 30
    boxed = wrap.remote(5)  # a worker's value naming a worker's put
    inner = simray.get(boxed)
    del boxed
    assert simray.get(head_sum.remote(inner[0])) == 50
    simray.get(keeper.drop.remote("a"))
    del outer, inner
    assert _settled(0) == 0  # with every holder gone, everything is freed


# One step of a program over a few slots of the driver: put a value (small or large, maybe
# naming the object in another slot), give a slot to the actor (nested, so it keeps the ref),
# run a task on it, or drop the slot.
_step = st.tuples(
    st.sampled_from(["put", "put_big", "put_box", "keep", "task", "drop", "unkeep"]),
    st.integers(0, 3),
    st.integers(0, 3),
)


@pytest.fixture
def shared_session():
    """One session and actor for all of a property test's examples."""
    simray.init(backend="local", num_cpus=2)
    yield Keeper.remote()
    simray.shutdown()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(_step, min_size=1, max_size=12))
def test_no_object_anyone_can_read_is_ever_freed(shared_session, steps):
    keeper = shared_session
    start = _entries()
    slots: dict[int, tuple[object, int]] = {}  # slot -> (ref, the fill its value reads as)
    kept: dict[int, int] = {}  # the actor's keys -> fill
    try:
        for op, a, b in steps:
            _apply(keeper, slots, kept, op, a, b)
            _check(keeper, slots, kept)
    finally:
        for key in list(kept):
            simray.get(keeper.drop.remote(key))
        slots.clear()
    assert _settled(start) == start  # and once nothing holds them, all are freed


def _check(keeper, slots, kept):
    for ref, fill in slots.values():  # whatever the driver holds reads back
        assert int(simray.get(_leaf(ref))[:10].sum()) == 10 * fill
    for key, fill in kept.items():  # and whatever the actor holds
        assert simray.get(keeper.read.remote(key)) == 10 * fill


def _apply(keeper, slots, kept, op, a, b):
    if op in ("put", "put_big"):
        size = BIG if op == "put_big" else 100
        slots[a] = (simray.put(np.full(size, a + 1, dtype=np.uint8)), a + 1)
    elif op == "put_box" and b in slots:
        # a value naming slot b's object: reading it reads that object
        slots[a] = (simray.put([slots[b][0]]), slots[b][1])
    elif op == "keep" and a in slots:
        simray.get(keeper.keep.remote(a, [_leaf(slots[a][0])]))
        kept[a] = slots[a][1]
    elif op == "task" and a in slots:
        assert simray.get(nested_sum.remote([_leaf(slots[a][0])])) == 10 * slots[a][1]
    elif op == "drop":
        slots.pop(a, None)
    elif op == "unkeep" and a in kept:
        simray.get(keeper.drop.remote(a))
        del kept[a]


def _leaf(ref):
    """The ref to the array a slot's value reads as (a box holds the ref to one)."""
    value = simray.get(ref)
    while isinstance(value, list):
        ref = value[0]
        value = simray.get(ref)
    return ref
