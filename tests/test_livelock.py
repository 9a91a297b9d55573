"""The livelock guard: a run whose virtual clock stands still ends in LivelockError, not a hang.

The guard's threshold is lowered to 1 wall second here; nothing asserts how long it took.
"""

from __future__ import annotations

import time

import pytest

import simray
from simray.exceptions import LivelockError


def test_a_busy_loop_in_a_task_is_named():
    @simray.remote
    def spin():
        x = 0
        while True:
            try:
                x += 1
            except Exception:  # a busy loop that swallows errors cannot swallow the guard's
                pass

    simray.init(num_cpus=1, _latency=0, _livelock_seconds=1)
    with pytest.raises(LivelockError, match=r"task 1 spin\(\).* in spin"):
        simray.get(spin.remote())
    # The run is over: later calls say so instead of hanging.
    with pytest.raises(LivelockError):
        simray.get(spin.remote())


def test_a_zero_time_polling_pair_is_named():
    @simray.remote
    class Counter:
        def n(self):
            return 1

    @simray.remote
    class Poller:
        def __init__(self, other):
            self.other = other

        def run(self):
            while True:
                simray.get(self.other.n.remote())

        def ping(self):
            return "pong"

    simray.init(num_cpus=2, _latency=0, _livelock_seconds=1)
    poller = Poller.remote(Counter.remote())
    poller.run.remote()
    with pytest.raises(LivelockError, match=r"stood still at t=0 s.*(Counter\.n|Poller\.run)\(\)"):
        simray.get(poller.ping.remote(), timeout=2)


def test_the_driver_computing_is_not_a_livelock():
    """The guard watches the simulator only: a driver busy for longer than the threshold, in
    its own code between calls, is left alone."""
    import os

    simray.init(num_cpus=1, _latency=0, _livelock_seconds=1)
    start = os.times().elapsed  # real time (the driver's time.* is virtual)
    spins = 0
    while os.times().elapsed - start < 1.5:
        spins += 1
    assert simray.get(simray.put(spins)) == spins


def test_bad_threshold_is_refused(monkeypatch):
    real_monotonic = time.monotonic
    monkeypatch.setenv("SIMRAY_LIVELOCK_SECONDS", "soon")
    with pytest.raises(ValueError, match="SIMRAY_LIVELOCK_SECONDS must be"):
        simray.init(num_cpus=1)
    assert time.monotonic is real_monotonic  # a refused init leaves the host's clock alone


def _interrupt():
    """The guard's interrupt as `Watchdog._fire` makes it."""
    from simray._sim.livelock import LivelockInterrupt

    return type("LivelockInterrupt", (LivelockInterrupt,), {"message": "livelock: injected"})


def _land_in_block(interrupt):
    """Make the interrupt land where the guard's may: in the current unit, as it resumes from
    blocking in the simulator (the hub throws it into the unit's `Kernel.block`)."""
    from simray import _session

    kernel = _session.active().kernel
    me = kernel.current
    kernel.call_soon(lambda _: me.glet.throw(interrupt))


@pytest.mark.parametrize("where", ["blocked", "body"])
@pytest.mark.parametrize("kind", ["sync", "threaded", "async"])
def test_the_interrupt_ends_the_run_wherever_it_lands(kind, where):
    """The guard's interrupt is asynchronous: it lands in whatever the simulator's thread runs,
    a unit's body or its `block` included. It must reach the driver as LivelockError; taken for
    the call's own failure, the call would end, the next call run and the driver's get return
    (the flake of test_a_zero_time_polling_pair_is_named). Injected here, so no timing."""
    interrupt = _interrupt()

    @simray.remote
    class Counter:
        def n(self):
            return 1

    class Poller:
        def __init__(self, other):
            self.other = other

        def run(self):
            if where == "blocked":
                _land_in_block(interrupt)
                simray.get(self.other.n.remote())
            else:
                raise interrupt
            return "run ended"

        def ping(self):
            return "pong"

    if kind == "async":

        class Poller(Poller):  # noqa: F811 - the same methods, as coroutines
            async def run(self):
                return super().run()

            async def ping(self):
                return "pong"

    options = {"max_concurrency": 2} if kind == "threaded" else {}
    simray.init(num_cpus=2, _latency=0, _livelock_seconds=0)
    poller = simray.remote(Poller).options(**options).remote(Counter.remote())
    run = poller.run.remote()
    with pytest.raises(LivelockError, match="livelock: injected") as raised:
        simray.get([run, poller.ping.remote()])
    assert raised.type is LivelockError  # the driver's own, not `run`'s failure (a task error)
    with pytest.raises(LivelockError):  # the run is over
        simray.get(poller.ping.remote())
