"""Streaming and dynamic generators on sim: exact virtual times, cancel, backpressure, wait."""

from __future__ import annotations

import time

import pytest

import simray
import simray.sim
from simray.exceptions import TaskCancelledError


@simray.remote
def ticks(n: int, every: float):
    for i in range(n):
        time.sleep(every)
        yield (i, simray.sim.now())


def test_items_appear_at_the_virtual_instant_they_are_yielded():
    simray.init(num_cpus=1)
    gen = ticks.remote(3, 2.0)
    seen = []
    for ref in gen:
        seen.append((simray.get(ref), simray.sim.now()))
    assert seen == [((0, 2.0), 2.0), ((1, 4.0), 4.0), ((2, 6.0), 6.0)]
    assert gen.is_finished()
    assert not gen.next_ready()


def test_cancel_ends_the_stream_with_task_cancelled_error():
    simray.init(num_cpus=1)
    gen = ticks.remote(5, 10.0)
    first = next(gen)
    assert simray.get(first)[0] == 0
    simray.cancel(gen)
    error_ref = next(gen)  # the stream ends with the task's own ref
    with pytest.raises(TaskCancelledError):
        simray.get(error_ref)
    with pytest.raises(StopIteration):
        next(gen)
    with pytest.raises(TaskCancelledError):
        simray.get(gen.completed())
    assert simray.sim.now() == 20.0  # the running sleep ends first, as Ray interrupts it


def test_backpressure_holds_the_producer_until_the_consumer_reads():
    simray.init(num_cpus=1)
    gen = ticks.options(_generator_backpressure_num_objects=2).remote(4, 0.0)
    time.sleep(100)  # virtual: the driver sleeps, the producer runs
    assert gen._stream.unread() == 2  # two made, the producer waits
    produced_at = [simray.get(ref)[1] for ref in gen]
    assert produced_at == [0.0, 0.0, 100.0, 100.0]


def test_wait_on_generators_and_refs_with_timeout():
    simray.init(num_cpus=2)
    slow = ticks.remote(1, 50.0)
    fast = ticks.remote(1, 5.0)
    ready, not_ready = simray.wait([slow, fast], num_returns=1, timeout=10)
    assert ready == [fast]
    assert not_ready == [slow]
    assert simray.sim.now() == 5.0
    ready, not_ready = simray.wait([slow], num_returns=1, timeout=1)
    assert ready == []
    assert simray.sim.now() == 6.0


def test_dynamic_returns_one_ref_to_a_generator_of_refs():
    simray.init(num_cpus=1)
    ref = ticks.options(num_returns="dynamic").remote(3, 1.0)
    refs = simray.get(ref)
    assert isinstance(refs, simray.DynamicObjectRefGenerator)
    assert [simray.get(r)[0] for r in refs] == [0, 1, 2]


def test_a_non_generator_with_streaming_fails_with_a_clear_error():
    simray.init(num_cpus=1)

    @simray.remote(num_returns="streaming")
    def plain():
        return 5

    gen = plain.remote()
    with pytest.raises(TypeError, match="not a generator"):
        simray.get(next(gen))
