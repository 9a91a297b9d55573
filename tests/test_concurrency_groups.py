"""Concurrency groups on sim: bad declarations and unknown groups fail with clear errors."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simray as ray


@pytest.fixture
def session():
    ray.init(num_cpus=2)
    yield
    ray.shutdown()


def test_unknown_method_group_fails_at_creation(session):
    @ray.remote(concurrency_groups={"io": 1})
    class A:
        @ray.method(concurrency_group="nope")
        def f(self):
            return 1

    with pytest.raises(AssertionError, match="concurrency_group='nope'.*declared: \\['io'\\]"):
        A.remote()


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        ({"io": 0}, ValueError, "at least 1"),
        ({"io": "2"}, TypeError, "'io': '2'"),
        (["io"], TypeError, "must be a dict"),
    ],
)
def test_bad_groups_declaration(session, groups, error, match):
    with pytest.raises(error, match=match):
        ray.remote(concurrency_groups=groups)(type("B", (), {"f": lambda self: 1}))


def test_unknown_call_group_and_group_of_option(session):
    @ray.remote(concurrency_groups={"io": 1})
    class C:
        def f(self):
            return 1

    c = C.remote()
    with pytest.raises(ValueError, match="'x' is not a concurrency group of C"):
        c.f.options(concurrency_group="x").remote()
    assert ray.get(c.f.options(concurrency_group="io").remote()) == 1

    @ray.remote
    class D:
        def f(self):
            return 1

    with pytest.raises(ValueError, match="declares no concurrency groups"):
        D.remote().f.options(concurrency_group="io").remote()


@settings(max_examples=10, deadline=None)
@given(
    limits=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    default=st.integers(1, 3),
    calls=st.lists(st.integers(-1, 2), min_size=1, max_size=12),
)
def test_each_group_runs_up_to_its_limit(limits, default, calls):
    """Blocked calls fill each group to min(its limit, its calls), whatever the interleaving."""
    groups = {f"g{i}": n for i, n in enumerate(limits)}
    calls = [c for c in calls if c < len(limits)]  # -1: the default group
    ray.init(num_cpus=2)
    try:

        @ray.remote
        class Gate:
            async def wait(self):
                import asyncio

                await asyncio.Event().wait()

        @ray.remote(concurrency_groups={**groups, "stats": 1})
        class W:
            def __init__(self, gate):
                self.gate, self.running = gate, {}

            def work(self, tag):
                self.running[tag] = self.running.get(tag, 0) + 1
                ray.get(self.gate.wait.remote())

            @ray.method(concurrency_group="stats")
            def stats(self):
                return self.running

        w = W.options(max_concurrency=default).remote(Gate.remote())
        for c in calls:
            tag = "default" if c < 0 else f"g{c}"
            method = w.work if c < 0 else w.work.options(concurrency_group=tag)
            method.remote(tag)
        time.sleep(5)
        want = {}
        for c in calls:
            want["default" if c < 0 else f"g{c}"] = 0
        for tag in want:
            limit = default if tag == "default" else groups[tag]
            count = sum(1 for c in calls if ("default" if c < 0 else f"g{c}") == tag)
            want[tag] = min(limit, count)
        assert ray.get(w.stats.remote()) == want
    finally:
        ray.shutdown()
