"""A reported bug, looked for by property: a task that `ray.cancel(force=True)` ends after it
was placed but before its body started must never run that body later (with its arguments or
without). Programs are drawn: tasks of a few durations on one or two CPUs, force and plain
cancels from the driver and from zero-CPU tasks running at the same instants, driver sleeps, the
exploration seed, start jitter and the latency model."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import simray
from simray.exceptions import TaskCancelledError

EVENTS: list[tuple] = []  # what bodies and cancels did, in the one interpreter's order


@simray.remote
def work(*args: object) -> object:
    EVENTS.append(("start", args[0] if args else None, args))
    index, value, duration = args
    if duration:
        time.sleep(duration)
    return value


@simray.remote(num_cpus=0)
def canceller(refs: list, index: int, force: bool) -> None:
    EVENTS.append(("cancel", index, force))
    simray.cancel(refs[0], force=force)


op = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from([0.0, 0.0, 0.1, 1.0])),
    st.tuples(st.just("cancel"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("cancel_in_task"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("sleep"), st.sampled_from([0.0, 0.05, 0.5])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cpus=st.sampled_from([1, 2]),
    seed=st.integers(0, 30),
    jitter=st.sampled_from([None, 0.01, 0.3]),
    latency=st.sampled_from([0, None, 0.02]),
    ops=st.lists(op, min_size=1, max_size=14),
)
# The case that failed (found by this test): with zero latency a task is placed at its
# submission; cancelled with force before the driver yields, its body ran at the next step,
# without arguments, and its end raised an internal AttributeError in the driver.
@example(
    cpus=1,
    seed=0,
    jitter=None,
    latency=0,
    ops=[("submit", 0.0), ("cancel", 0, True), ("sleep", 0.0)],
)
def test_a_force_cancelled_task_never_runs_its_body_later(cpus, seed, jitter, latency, ops):
    EVENTS.clear()
    simray.init(num_cpus=cpus, seed=seed, jitter=jitter if seed else None, _latency=latency)
    try:
        refs: list = []
        values: list[int] = []
        helpers = []
        for entry in ops:
            kind = entry[0]
            if kind == "submit":
                index = len(refs)
                values.append(index * 10 + 1)
                refs.append(work.remote(index, values[-1], entry[1]))
            elif kind == "cancel" and entry[1] < len(refs):
                EVENTS.append(("cancel", entry[1], entry[2]))
                simray.cancel(refs[entry[1]], force=entry[2])
            elif kind == "cancel_in_task" and entry[1] < len(refs):
                helpers.append(canceller.remote([refs[entry[1]]], entry[1], entry[2]))
            elif kind == "sleep":
                time.sleep(entry[1])
        simray.get(helpers)
        outcomes = []
        for ref in refs:
            try:
                outcomes.append(simray.get(ref))
            except TaskCancelledError:
                outcomes.append("cancelled")
            except Exception as error:  # noqa: BLE001 - a cancel while running: RayTaskError
                outcomes.append(type(error).__name__)
    finally:
        simray.shutdown()

    starts = [e for e in EVENTS if e[0] == "start"]
    for _, index, args in starts:  # every body ran with the arguments it was submitted with
        assert args == (index, values[index], args[2]), (args, EVENTS)
    for index, outcome in enumerate(outcomes):
        ran = [i for i, e in enumerate(EVENTS) if e[0] == "start" and e[1] == index]
        assert len(ran) <= 1, (index, EVENTS)
        if outcome == values[index]:
            assert len(ran) == 1, (index, EVENTS)
        if outcome == "cancelled" and ran:
            # It ended cancelled yet its body ran: only if it had started before a cancel.
            first_cancel = next(
                i for i, e in enumerate(EVENTS) if e[0] == "cancel" and e[1] == index
            )
            assert ran[0] < first_cancel, (index, EVENTS)
