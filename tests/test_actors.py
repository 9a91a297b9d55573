"""Actors on the sim backend: resources, ordering, concurrency, names, kill, errors, deadlocks."""

from __future__ import annotations

import asyncio
import time

import pytest

import simray
import simray.sim
from simray.exceptions import (
    ActorAlreadyExistsError,
    ActorDiedError,
    DeadlockError,
    RayActorError,
    RayTaskError,
    TaskCancelledError,
)
from simray.util import Semaphore, SignalActor


@simray.remote
class Counter:
    def __init__(self, start: int = 0) -> None:
        self.n = start
        self.log: list[int] = []

    def add(self, k: int) -> int:
        self.log.append(k)
        self.n += k
        return self.n

    def history(self) -> list[int]:
        return self.log

    def slow(self, seconds: float) -> float:
        time.sleep(seconds)
        return simray.sim.now()

    @simray.method(num_returns=2)
    def pair(self) -> tuple[int, int]:
        return self.n, -self.n


def test_calls_run_in_submission_order_and_keep_state():
    simray.init(num_cpus=1)
    c = Counter.remote(10)
    assert simray.get([c.add.remote(i) for i in range(5)]) == [10, 11, 13, 16, 20]
    assert simray.get(c.history.remote()) == [0, 1, 2, 3, 4]
    assert simray.get(list(c.pair.remote())) == [20, -20]
    assert simray.get(c.add.options(num_returns=1).remote(1)) == 21


def test_default_actors_hold_no_cpu_and_named_resources_are_held_for_life():
    simray.init(num_cpus=2)
    defaults = [Counter.remote() for _ in range(4)]
    assert simray.get([a.add.remote(1) for a in defaults]) == [1, 1, 1, 1]
    assert simray.available_resources()["CPU"] == 2.0
    one = Counter.options(num_cpus=1).remote()
    simray.get(one.add.remote(1))
    assert simray.available_resources()["CPU"] == 1.0
    two = Counter.options(num_cpus=1).remote()
    simray.get(two.add.remote(1))
    three = Counter.options(num_cpus=1).remote()
    ready, _ = simray.wait([three.add.remote(1)], timeout=5)
    assert ready == []
    simray.kill(one)
    assert simray.get(three.add.remote(1)) == 2


def test_threaded_and_async_actors_interleave_in_virtual_time():
    simray.init(num_cpus=1)
    threaded = Counter.options(max_concurrency=2).remote()
    assert simray.get(threaded.add.remote(0)) == 0
    start = simray.sim.now()
    finishes = simray.get([threaded.slow.remote(1) for _ in range(4)])
    assert [f - start for f in finishes] == [1.0, 1.0, 2.0, 2.0]

    @simray.remote
    class Sleepy:
        async def nap(self) -> float:
            await asyncio.sleep(1)
            return simray.sim.now()

    sleepy = Sleepy.remote()
    begin = simray.sim.now()
    assert {f - begin for f in simray.get([sleepy.nap.remote() for _ in range(10)])} == {1.0}


def test_async_actor_primitives_run_deterministically():
    simray.init(num_cpus=2)

    @simray.remote
    class Box:
        def __init__(self) -> None:
            self.event = asyncio.Event()
            self.queue: asyncio.Queue[int] = asyncio.Queue()

        async def wait_event(self) -> float:
            await self.event.wait()
            return simray.sim.now()

        async def set_event(self) -> None:
            await asyncio.sleep(2)
            self.event.set()

        async def produce(self, n: int) -> None:
            for i in range(n):
                await asyncio.sleep(0.5)
                await self.queue.put(i)

        async def consume(self, n: int) -> list[int]:
            return [await self.queue.get() for _ in range(n)]

        async def too_slow(self) -> str:
            try:
                await asyncio.wait_for(asyncio.sleep(10), timeout=1)
            except TimeoutError:
                return f"timed out at {simray.sim.now()}"
            return "finished"

    box = Box.remote()
    waiter = box.wait_event.remote()
    box.set_event.remote()
    assert simray.get(waiter) == 2.0
    consumer = box.consume.remote(3)
    box.produce.remote(3)
    assert simray.get(consumer) == [0, 1, 2]
    assert simray.get(box.too_slow.remote()) == "timed out at 4.5"


def test_named_actors_namespaces_and_get_if_exists():
    simray.init(num_cpus=1, namespace="ns")
    first = Counter.options(name="counter").remote()
    simray.get(first.add.remote(5))
    again = Counter.options(name="counter", get_if_exists=True).remote()
    assert simray.get(again.add.remote(1)) == 6
    assert simray.get(simray.get_actor("counter").add.remote(1)) == 7
    with pytest.raises(
        ActorAlreadyExistsError, match=r"^The name counter \(namespace=ns\) is already taken"
    ):
        Counter.options(name="counter").remote()
    with pytest.raises(ValueError, match=r"^Failed to look up actor with name 'counter'"):
        simray.get_actor("counter", namespace="other")
    other = Counter.options(name="counter", namespace="other").remote()
    assert simray.get(other.add.remote(1)) == 1


def test_kill_terminate_and_init_errors():
    simray.init(num_cpus=1)
    c = Counter.remote()
    simray.get(c.add.remote(1))
    slow = c.slow.remote(100)
    simray.kill(c)
    with pytest.raises(ActorDiedError, match="killed by `ray.kill`"):
        simray.get(slow)
    with pytest.raises(RayActorError):
        simray.get(c.add.remote(1))
    d = Counter.remote()
    first = d.add.remote(1)
    d.__ray_terminate__.remote()
    after = d.add.remote(1)
    assert simray.get(first) == 1
    with pytest.raises(ActorDiedError, match="exit_actor"):
        simray.get(after)

    @simray.remote
    class Broken:
        def __init__(self) -> None:
            raise ValueError("cannot start")

        def ping(self) -> str:
            return "pong"

    b = Broken.remote()
    with pytest.raises(ActorDiedError, match="cannot start"):
        simray.get(b.ping.remote())


def test_method_errors_are_task_errors_and_the_actor_goes_on():
    simray.init(num_cpus=1)

    @simray.remote
    class Fragile:
        def boom(self) -> None:
            raise KeyError("k")

        def ok(self) -> str:
            return "ok"

    f = Fragile.remote()
    with pytest.raises(KeyError) as info:
        simray.get(f.boom.remote())
    assert isinstance(info.value, RayTaskError)
    assert simray.get(f.ok.remote()) == "ok"


def test_handles_pass_to_tasks_and_actors_create_tasks():
    simray.init(num_cpus=2)

    @simray.remote
    def bump(counter) -> int:  # type: ignore[no-untyped-def]
        return simray.get(counter.add.remote(1))

    @simray.remote
    class Boss:
        def delegate(self, counter, n: int) -> list[int]:  # type: ignore[no-untyped-def]
            return simray.get([bump.remote(counter) for _ in range(n)])

    c = Counter.remote()
    assert sorted(simray.get(Boss.remote().delegate.remote(c, 3))) == [1, 2, 3]


def test_signal_actor_and_semaphore():
    simray.init(num_cpus=4)
    signal = SignalActor.remote()

    @simray.remote
    def waiter(s) -> float:  # type: ignore[no-untyped-def]
        simray.get(s.wait.remote())
        return simray.sim.now()

    refs = [waiter.remote(signal) for _ in range(4)]
    while simray.get(signal.cur_num_waiters.remote()) < 4:
        time.sleep(0.1)
    time.sleep(5)
    simray.get(signal.send.remote())
    assert set(simray.get(refs)) == {5.1}
    sema = Semaphore.remote(2)
    simray.get([sema.acquire.remote(), sema.acquire.remote()])
    assert simray.get(sema.locked.remote()) is True
    simray.get(sema.release.remote())
    assert simray.get(sema.locked.remote()) is False


def test_actor_call_cancel_rules():
    simray.init(num_cpus=1)
    c = Counter.remote()
    running = c.slow.remote(5)
    queued = c.add.remote(1)
    with pytest.raises(ValueError, match=r"^force=True is not supported for actor tasks"):
        simray.cancel(queued, force=True)
    simray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        simray.get(queued)
    assert simray.get(running) == 5.0


def test_actor_call_cycle_is_a_deadlock_with_the_chain():
    simray.init(num_cpus=2)

    @simray.remote
    class A:
        def f(self, b, me) -> str:  # type: ignore[no-untyped-def]
            return simray.get(b.g.remote(me))

        def h(self) -> str:
            return "h"

    @simray.remote
    class B:
        def g(self, a) -> str:  # type: ignore[no-untyped-def]
            return simray.get(a.h.remote())

    a, b = A.remote(), B.remote()
    with pytest.raises(
        DeadlockError,
        match=r"(?s)A\.h\(\).*waits in the actor's mailbox: max_concurrency=1.*a cycle",
    ):
        simray.get(a.f.remote(b, a))
    # With room for a second call, A answers B (B stays wedged by the first cycle, as in Ray).
    a2, b2 = A.options(max_concurrency=2).remote(), B.remote()
    assert simray.get(a2.f.remote(b2, a2)) == "h"


def test_actors_starving_tasks_of_cpus_is_explained():
    simray.init(num_cpus=2)
    holders = [Counter.options(num_cpus=1).remote() for _ in range(2)]
    simray.get([h.add.remote(1) for h in holders])

    @simray.remote
    def work() -> int:
        return 1

    with pytest.raises(DeadlockError, match=r"held by actor Counter\(\d+\) \(for its lifetime\)"):
        simray.get(work.remote())


def test_cancel_running_actor_calls_sync_flag_and_async_task():
    simray.init(num_cpus=1)

    @simray.remote
    class Worker:
        def __init__(self) -> None:
            self.saw = None

        def poll(self) -> None:
            while not simray.get_runtime_context().is_canceled():
                time.sleep(0.5)
            self.saw = simray.sim.now()

        def saw_cancel(self) -> float | None:
            return self.saw

    w = Worker.remote()
    polling = w.poll.remote()
    time.sleep(2)
    simray.cancel(polling)
    # Ray answers the caller at once; the sync method sees the flag and runs to its end.
    with pytest.raises(TaskCancelledError):
        simray.get(polling)
    assert simray.sim.now() == 2.0
    assert simray.get(w.saw_cancel.remote()) == 2.0

    @simray.remote
    class Napper:
        async def nap(self) -> str:
            await asyncio.sleep(100)
            return "slept"

    n = Napper.remote()
    napping = n.nap.remote()
    time.sleep(1)
    simray.cancel(napping)
    with pytest.raises(TaskCancelledError):
        simray.get(napping)
    assert simray.sim.now() == 3.0
