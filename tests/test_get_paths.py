"""`get` and `wait` of many refs on the sim backend: the values do not depend on the path.

A ready scalar returned by a plain task is counted off its waiter inline and read back without
per-ref checks (`Waiter.plain`); pickled values, failures, refs already ready, waits for fewer
refs than pending, and sessions with a trace (the general path everywhere) take the others.
Each program runs with and without a trace, and its outcome is checked against what it must be.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simray

KINDS = ("scalar", "list", "fail", "ready")


@simray.remote
def make(kind: str, i: int, delay: float) -> object:
    import time

    time.sleep(delay)
    if kind == "fail":
        raise ValueError(f"task {i} fails")
    if kind == "list":
        return [i, i]
    return i * 1.5


def _expected(kind: str, i: int) -> object:
    return [i, i] if kind == "list" else i * 1.5


def _run(specs: list[tuple[str, float]], wait_for: int, trace: bool) -> object:
    simray.init(num_cpus=2, _latency=0, trace=trace or None)
    try:
        refs = [make.remote(kind, i, delay) for i, (kind, delay) in enumerate(specs)]
        for ref, (kind, _) in zip(refs, specs, strict=True):
            if kind == "ready":  # ready before the get of all of them
                simray.get(ref)
        if wait_for:
            ready, rest = simray.wait(refs, num_returns=min(wait_for, len(refs)))
            assert len(ready) == min(wait_for, len(refs))
            assert {id(r) for r in ready} | {id(r) for r in rest} == {id(r) for r in refs}
        try:
            return ("values", simray.get(refs))
        except simray.exceptions.RayTaskError as e:
            return ("raised", type(e).__name__, "fails" in str(e))
    finally:
        simray.shutdown()


@settings(max_examples=40, deadline=None)
@given(
    specs=st.lists(
        st.tuples(st.sampled_from(KINDS), st.sampled_from([0.0, 0.5, 1.0, 2.5])),
        min_size=1,
        max_size=12,
    ),
    wait_for=st.integers(0, 4),
)
def test_get_of_many_refs_gives_their_values_on_every_path(specs, wait_for):
    plain = _run(specs, wait_for, trace=False)
    assert plain == _run(specs, wait_for, trace=True)
    if any(kind == "fail" for kind, _ in specs):
        assert plain[0] == "raised"
        assert plain[2]
    else:
        assert plain == ("values", [_expected(kind, i) for i, (kind, _) in enumerate(specs)])


def test_get_of_refs_all_pending_and_plain_reads_each_value():
    """The commonest get: every ref pending, each resolved inline to a scalar."""
    simray.init(num_cpus=3, _latency=0)
    try:
        refs = [make.remote("scalar", i, (i % 4) * 0.25) for i in range(300)]
        assert simray.get(refs) == [i * 1.5 for i in range(300)]
        assert simray.get(refs[:5]) == [0.0, 1.5, 3.0, 4.5, 6.0]
    finally:
        simray.shutdown()


def test_get_after_a_timed_out_get_and_with_repeated_refs():
    """A get that does not wait (timeout 0, a failed ref) or times out leaves its waiter on the
    pending refs; it must wake no one, and later gets see every value, repeats included."""
    simray.init(num_cpus=1, _latency=0)
    try:
        refs = [make.remote("scalar", i, 1.0) for i in range(4)]
        with pytest.raises(simray.exceptions.GetTimeoutError):
            simray.get(refs, timeout=0)
        with pytest.raises(simray.exceptions.GetTimeoutError):
            simray.get(refs, timeout=1.5)  # the first task ends at 1.0, the second at 2.0
        failed = make.remote("fail", 9, 0.0)
        with pytest.raises(simray.exceptions.RayTaskError):
            simray.get([failed, *refs])
        assert simray.get([refs[3], refs[3], refs[1]]) == [4.5, 4.5, 1.5]
        assert simray.get(refs) == [0.0, 1.5, 3.0, 4.5]
    finally:
        simray.shutdown()
