"""The kernel's timers run in (time, sequence) order, ties included, with or without schedule
exploration, and `Kernel.sleep`'s fast path runs events in the order the hub would."""

from __future__ import annotations

import heapq
import random

from hypothesis import given
from hypothesis import strategies as st

from simray._sim.kernel import Kernel, Unit

# A timer: (delay from the instant it is scheduled at, [timers it schedules when it runs]).
timers = st.recursive(
    st.tuples(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.just([])),
    lambda children: st.tuples(st.sampled_from([0.0, 0.5, 1.0]), st.lists(children, max_size=3)),
    max_leaves=12,
)


def _stall() -> BaseException:
    return RuntimeError("stalled")


def _run_kernel(plan: list, explore_seed: int | None) -> list[tuple[float, str]]:
    kernel = Kernel(on_stall=_stall)
    if explore_seed is not None:
        kernel.explore = random.Random(explore_seed)
    ran: list[tuple[float, str]] = []

    def schedule(items: list, prefix: str) -> None:
        for i, (delay, children) in enumerate(items):
            label = f"{prefix}{i}."
            kernel.call_at(kernel.now + delay, fire, (label, children))

    def fire(arg: tuple[str, list]) -> None:
        label, children = arg
        ran.append((kernel.now, label))
        schedule(children, label)

    schedule(plan, "")
    kernel.sleep_until(100.0)  # the driver: the hub runs every timer meanwhile
    return ran


def _reference(plan: list, explore_seed: int | None) -> list[tuple[float, str]]:
    """The same timers on a plain heap of (when, seq) tuples, seq drawn as the kernel draws it."""
    rng = random.Random(explore_seed) if explore_seed is not None else None
    heap: list = []
    counter = 0
    now = 0.0
    ran = []

    def schedule(items: list, prefix: str) -> None:
        nonlocal counter
        for i, (delay, children) in enumerate(items):
            counter += 1
            seq = counter if rng is None else (rng.getrandbits(32) << 40) | counter
            heapq.heappush(heap, (now + delay, seq, f"{prefix}{i}.", children))

    schedule(plan, "")
    counter += 1  # the driver's sleep takes a sequence number (and a draw) too
    if rng is not None:
        rng.getrandbits(32)
    while heap:
        now, _, label, children = heapq.heappop(heap)
        ran.append((now, label))
        schedule(children, label)
    return ran


@given(st.lists(timers, min_size=1, max_size=6), st.none() | st.integers(0, 2**16))
def test_timers_run_in_time_then_sequence_order(plan: list, explore_seed: int | None) -> None:
    assert _run_kernel(plan, explore_seed) == _reference(plan, explore_seed)


def _sleepers(durations: list[list[float]], hooked: bool) -> list[tuple[float, int]]:
    kernel = Kernel(on_stall=_stall)
    if hooked:
        kernel.after_event = lambda: None  # the hub runs every timer: no fast path
    woke: list[tuple[float, int]] = []

    def body(unit: Unit) -> None:
        for seconds in durations[unit.env]:
            kernel.sleep(seconds)
            woke.append((kernel.now, unit.env))

    for i in range(len(durations)):
        unit = Unit()
        unit.env = i  # its index (env is any value the kernel compares by identity)
        kernel.spawn(unit, body)
    kernel.env_now = None
    kernel.on_switch_in = lambda unit: None
    kernel.sleep_until(1000.0)
    return woke


@given(
    st.lists(
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5]), max_size=5), min_size=1, max_size=5
    )
)
def test_the_sleep_fast_path_keeps_the_hubs_order(durations: list[list[float]]) -> None:
    assert _sleepers(durations, hooked=False) == _sleepers(durations, hooked=True)


def test_a_sleep_outside_any_unit_returns_at_once_without_moving_the_clock() -> None:
    kernel = Kernel(on_stall=_stall)
    seen: list[tuple[float, float, object]] = []

    def callback(_: object) -> None:
        before = kernel.now
        kernel.sleep(5.0)
        seen.append((before, kernel.now, kernel.current))

    kernel.call_at(1.0, callback)
    kernel.call_at(2.0, lambda _: seen.append((kernel.now, kernel.now, kernel.current)))
    kernel.sleep_until(3.0)
    assert seen == [(1.0, 1.0, None), (2.0, 2.0, None)]
    assert kernel.now == 3.0
    assert kernel.current is kernel.driver


def test_time_sleep_in_code_the_simulator_calls_between_units() -> None:
    # A `__del__` or weakref callback can run user code while the simulator runs its own
    # callbacks, where no task or driver is current: its `time.sleep` has nothing to suspend.
    import time

    import simray
    from simray import _session

    simray.init(num_cpus=1)
    try:
        seen: list[tuple[float, float]] = []

        def user_code(_: object) -> None:
            before = time.monotonic()
            time.sleep(5)
            seen.append((before, time.monotonic()))

        _session.backend().kernel.call_at(1.0, user_code)
        time.sleep(2)
        assert seen == [(1.0, 1.0)]
        assert time.monotonic() == 2.0
    finally:
        simray.shutdown()


def test_time_sleep_in_another_thread_sleeps_for_real_while_a_task_runs() -> None:
    # A library's thread started by a task sleeps for real, its clock real, while the task (the
    # simulator's current unit) waits for it: the virtual clock does not move meanwhile.
    import threading
    import time

    import simray
    import simray.sim

    simray.init(num_cpus=1, _latency=0)
    try:

        @simray.remote
        def joins_a_sleeping_thread() -> tuple[float, float, float]:
            slept: list[float] = []

            def sleeper() -> None:
                start = time.monotonic()
                time.sleep(0.05)
                slept.append(time.monotonic() - start)

            before = simray.sim.now()
            thread = threading.Thread(target=sleeper)
            thread.start()
            thread.join()
            return before, simray.sim.now(), slept[0]

        before, after, slept = simray.get(joins_a_sleeping_thread.remote())
        assert before == after
        assert slept >= 0.05
    finally:
        simray.shutdown()
