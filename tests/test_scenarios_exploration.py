"""Schedule exploration: seeds order simultaneous events; seed 0 keeps the scheduled order."""

from __future__ import annotations

import importlib
import pkgutil
import re
import time

import pytest

import simray
import simray._sim
from simray import sim

pytest_plugins = ["pytester"]

# In-process pytester runs drop the modules first imported inside them when they end; simray's
# modules are imported here first, so every test of this worker keeps one copy of each (one
# class per exception).
for _name in (
    "simray.exceptions",
    "simray.cluster",
    "simray.sim",
    "simray.util.test_utils",
    "simray._sim.backend",
    "simray.testing.scenarios",
    *(f"simray._sim.{m.name}" for m in pkgutil.iter_modules(simray._sim.__path__)),
):
    importlib.import_module(_name)


def _first_of_two(seed: int, **init) -> str:
    simray.init(num_cpus=2, seed=seed, **init)

    @simray.remote
    def slow(name):
        time.sleep(1)
        return name

    a, b = slow.remote("a"), slow.remote("b")
    ready, _ = simray.wait([a, b], num_returns=1)
    first = simray.get(ready[0])
    simray.shutdown()
    return first


def _trace(seed: int, monkeypatch, explore: str | None = None, jitter: str | None = None):
    if explore is not None:
        monkeypatch.setenv("SIMRAY_EXPLORE", explore)
    if jitter is not None:
        monkeypatch.setenv("SIMRAY_JITTER", jitter)
    simray.init(num_cpus=3, seed=seed, trace=True)

    @simray.remote
    def leaf(i):
        time.sleep(i % 2)
        return i

    @simray.remote
    class Acc:
        def __init__(self):
            self.seen = []

        def add(self, x):
            self.seen.append(x)
            return list(self.seen)

    acc = Acc.remote()
    refs = [leaf.remote(i) for i in range(6)]
    out = simray.get([acc.add.remote(r) for r in refs])
    lines = sim.trace_lines()
    simray.shutdown()
    return out, lines


def test_seed_zero_keeps_the_scheduled_order():
    assert all(_first_of_two(0) == "a" for _ in range(3))


def test_seeds_explore_which_simultaneous_task_finishes_first():
    firsts = {seed: _first_of_two(seed) for seed in range(1, 30)}
    assert set(firsts.values()) == {"a", "b"}
    assert _first_of_two(7) == firsts[7]  # the same seed, the same schedule


def test_exploration_off_keeps_the_scheduled_order_for_any_seed(monkeypatch):
    monkeypatch.setenv("SIMRAY_EXPLORE", "0")
    assert {_first_of_two(seed) for seed in range(1, 15)} == {"a"}


def test_init_keywords_turn_exploration_off_and_on():
    assert {_first_of_two(seed, explore=False) for seed in range(1, 15)} == {"a"}
    firsts = {_first_of_two(seed, explore=True) for seed in range(1, 30)}
    assert firsts == {"a", "b"}


def test_init_jitter_keyword_is_bounded_and_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("SIMRAY_JITTER", "100")
    simray.init(num_cpus=4, seed=3, jitter=0.25)

    @simray.remote
    def f():
        return simray.sim.now()

    starts = simray.get([f.remote() for _ in range(4)])
    simray.shutdown()
    assert all(0 <= s <= 0.25 for s in starts)
    assert len(set(starts)) == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"explore": "yes"},
            TypeError,
            "init(explore=...) must be True, False or None (None: explore for any seed but 0), "
            "got 'yes'",
        ),
        *(
            (
                {"jitter": bad, "backend": backend},
                ValueError,
                "init(jitter=...) must be a finite number of virtual seconds >= 0 (0 or None "
                f"turns jitter off), got {bad!r}",
            )
            for bad, backend in ((-1, "sim"), (float("inf"), "sim"), ("0.5", "sim"), (-1, "local"))
        ),
    ],
)
def test_bad_init_exploration_keywords_are_named(kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        simray.init(seed=1, **kwargs)
    assert not simray.is_initialized()


def test_seed_zero_trace_is_the_unexplored_trace(monkeypatch):
    assert _trace(0, monkeypatch) == _trace(0, monkeypatch, explore="0")


def test_same_seed_same_trace_with_exploration_and_jitter(monkeypatch):
    for seed in (1, 5):
        assert _trace(seed, monkeypatch, jitter="0.25") == _trace(seed, monkeypatch, jitter="0.25")
    assert _trace(1, monkeypatch, jitter="0.25")[1] != _trace(2, monkeypatch, jitter="0.25")[1]


def test_one_callers_actor_calls_keep_their_order_under_jitter(monkeypatch):
    for seed in range(1, 8):
        out, _ = _trace(seed, monkeypatch, jitter="0.5")
        assert out[-1] == list(range(6))  # Ray's per-caller order, however the args arrive


def test_jitter_is_bounded(monkeypatch):
    monkeypatch.setenv("SIMRAY_JITTER", "0.25")
    simray.init(num_cpus=4, seed=3, trace=True)

    @simray.remote
    def f():
        return simray.sim.now()

    starts = simray.get([f.remote() for _ in range(4)])
    simray.shutdown()
    assert all(0 <= s <= 0.25 for s in starts)
    assert len(set(starts)) == 4  # drawn, not constant


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("SIMRAY_EXPLORE", "maybe", "SIMRAY_EXPLORE must be 0 or 1 (or true/false), got 'maybe'"),
        (
            "SIMRAY_JITTER",
            "soon",
            "SIMRAY_JITTER must be a number of virtual seconds >= 0, got 'soon'",
        ),
        ("SIMRAY_JITTER", "-1", "jitter must be a number of virtual seconds >= 0, got -1.0"),
    ],
)
def test_bad_settings_are_named(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        simray.init(seed=1)


RACY = """
import time
import pytest
import simray


@simray.remote
def slow(name):
    time.sleep(1)
    return name


def test_assumes_who_finishes_first(ray_start_2_cpus):
    a, b = slow.remote("a"), slow.remote("b")
    ready, _ = simray.wait([a, b], num_returns=1)
    assert simray.get(ready[0]) == "a"
"""


def test_a_racy_test_is_caught_by_a_seed_sweep_and_replays(pytester):
    pytester.makepyfile(test_racy=RACY)
    assert pytester.runpytest("-p", "no:cacheprovider").ret == 0  # passes on the default order
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-seeds=20")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 1
    assert outcomes["passed"] >= 1
    commands = re.findall(r"replay with: (pytest \S+ --simray-seed=\d+)", result.stdout.str())
    assert commands
    args = commands[0].split()[1:]
    for _ in range(2):
        replay = pytester.runpytest("-p", "no:cacheprovider", *args)
        replay.assert_outcomes(failed=1)


def test_plugin_jitter_option_reaches_the_session(pytester):
    pytester.makepyfile(
        """
        import simray

        def test_j(ray_start_2_cpus):
            @simray.remote
            def f():
                return simray.sim.now()
            assert 0 < simray.get(f.remote()) <= 0.5
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-seed=1", "--simray-jitter=0.5")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "--simray-jitter=-2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
