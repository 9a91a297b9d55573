"""The sim latency model: remote operations cost virtual time; `0` is the zero-cost model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simray
import simray.sim
from simray._sim import latency
from simray.exceptions import ActorDiedError, GetTimeoutError, TaskCancelledError


@simray.remote
def noop():
    return None


@simray.remote
class Box:
    def __init__(self):
        self.seen = []

    def add(self, i):
        self.seen.append(i)
        return i

    def get(self):
        return self.seen


def test_defaults_charge_each_operation(monkeypatch):
    monkeypatch.delenv("SIMRAY_SIM_LATENCY", raising=False)
    simray.init(num_cpus=2)
    model = latency.DEFAULT
    simray.get(noop.remote())
    assert simray.sim.now() == pytest.approx(model.task)
    box = Box.remote()
    simray.get(box.get.remote())
    start = simray.sim.now()
    simray.get(box.add.remote(1))
    assert simray.sim.now() - start == pytest.approx(model.actor_call)
    start = simray.sim.now()
    simray.put(b"x" * 1_000_000)
    spent = simray.sim.now() - start
    assert model.put + 1_000_000 * model.per_byte <= spent < model.put + 1_001_000 * model.per_byte


def test_zero_is_the_zero_cost_model(monkeypatch):
    monkeypatch.setenv("SIMRAY_SIM_LATENCY", "0")
    simray.init(num_cpus=2)
    box = Box.remote()
    simray.get([noop.remote(), box.add.remote(1)])
    simray.put([1, 2, 3])
    assert simray.sim.now() == 0.0
    simray.shutdown()
    monkeypatch.delenv("SIMRAY_SIM_LATENCY")
    simray.init(num_cpus=2, _latency=0)
    simray.get(noop.remote())
    assert simray.sim.now() == 0.0


def test_overrides_from_env_and_init(monkeypatch):
    monkeypatch.setenv("SIMRAY_SIM_LATENCY", "task=0.5,actor_call=0")
    simray.init(num_cpus=2)
    simray.get(noop.remote())
    assert simray.sim.now() == 0.5
    simray.shutdown()
    simray.init(num_cpus=2, _latency=0.25)
    simray.get(noop.remote())
    assert simray.sim.now() == 0.25


@pytest.mark.parametrize(
    "value", ["fast", "-1", "task=slow", "tasks=1", "task=-2", "task=1,,put=2"]
)
def test_bad_latency_values_name_the_rule(monkeypatch, value):
    monkeypatch.setenv("SIMRAY_SIM_LATENCY", value)
    with pytest.raises(ValueError, match="SIMRAY_SIM_LATENCY|latency key|seconds >= 0"):
        simray.init(num_cpus=1)


def test_bad_init_latency_is_refused():
    with pytest.raises(ValueError, match="_latency must be"):
        simray.init(num_cpus=1, _latency=[1])


def test_a_polling_loop_advances_time_and_the_timeout_fires():
    @simray.remote
    class Poller:
        def __init__(self, other):
            self.other = other

        def run(self):
            while True:
                simray.get(self.other.add.remote(0))

        def ping(self):
            return "pong"

    simray.init(num_cpus=2, _latency="default")
    box = Box.remote()
    poller = Poller.remote(box)
    poller.run.remote()
    with pytest.raises(GetTimeoutError):
        simray.get(poller.ping.remote(), timeout=2)
    assert 2.0 <= simray.sim.now() < 2.01


def test_cancel_and_kill_while_in_flight():
    simray.init(num_cpus=1, _latency=1.0)
    ref = noop.remote()
    simray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        simray.get(ref)
    box = Box.remote()
    call = box.add.remote(1)
    simray.cancel(call)
    with pytest.raises(TaskCancelledError):
        simray.get(call)
    doomed = box.add.remote(2)
    simray.kill(box)
    with pytest.raises(ActorDiedError):
        simray.get(doomed)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12))
def test_actor_calls_keep_submission_order_with_latency(senders):
    """Calls from the driver and from tasks reach the actor in the order they were sent by
    each sender, whatever the interleaving of senders."""

    @simray.remote
    def send(box, tag, n):
        return simray.get([box.add.remote((tag, i)) for i in range(n)])

    simray.init(num_cpus=4, _latency="default")
    try:
        box = Box.remote()
        refs = [send.remote(box, tag, n) for tag, n in enumerate(senders)]
        simray.get(refs)
        seen = simray.get(box.get.remote())
        for tag, n in enumerate(senders):
            assert [i for t, i in seen if t == tag] == list(range(n))
    finally:
        simray.shutdown()


def test_a_trace_states_the_model_it_was_recorded_with(tmp_path):
    """Trace format 2: a `latency` record heads a trace made with the model on; none with 0."""
    path = tmp_path / "t.jsonl"
    simray.init(num_cpus=1, trace=str(path), _latency="task=0.5")
    simray.get(noop.remote())
    simray.shutdown()
    first = path.read_text().splitlines()[0]
    assert latency.from_trace(first) == "task=0.5,actor_call=0.00065,put=0.00085,per_byte=2.3e-09"
    simray.init(num_cpus=1, trace=str(path), _latency=0)
    simray.get(noop.remote())
    simray.shutdown()
    first = path.read_text().splitlines()[0]
    assert '"event": "latency"' not in first
    assert latency.from_trace(first) == "0"
