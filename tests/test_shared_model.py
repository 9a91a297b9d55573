"""The rules sim and local share (`simray/_model/returns.py`, `actors.py`, `pg_table.py`),
checked on their own; the backends' tests and the conformance programs check them in use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simray import exceptions as exc
from simray._model import actors as ends
from simray._model.pg_table import bundle_demands
from simray._model.returns import retries_exception, retry_notice, split_returns


@given(values=st.lists(st.integers(), max_size=6), n=st.integers(0, 6))
def test_split_returns_gives_exactly_n_values_or_rays_error(values, n):
    out = split_returns(tuple(values), n)
    if n == 1:
        assert out == [tuple(values)]
    elif n == 0:
        assert out == []
    elif len(values) == n:
        assert out == values
    else:
        assert isinstance(out, ValueError)
        assert str(out) == (
            f"Task returned {len(values) if values else 'a non-sequence'} objects, "
            f"but num_returns={n}."
        )


def test_split_returns_of_a_non_sequence():
    assert str(split_returns(7, 2)) == "Task returned a non-sequence objects, but num_returns=2."


@given(
    retry=st.sampled_from([False, True, (KeyError,), (ValueError,)]),
    cancelled=st.booleans(),
    left=st.integers(-1, 3),
    error=st.sampled_from([ValueError("v"), KeyError("k"), KeyboardInterrupt()]),
)
def test_an_exception_is_retried_only_when_every_rule_allows(retry, cancelled, left, error):
    matches = retry is True or (bool(retry) and isinstance(error, retry))
    expected = matches and not cancelled and left != 0 and isinstance(error, Exception)
    assert retries_exception(retry, cancelled, left, error) is expected


def test_retry_notice_is_rays_line():
    assert retry_notice("f", -1, ValueError("boom")) == (
        "(raylet) Task f failed. There are infinite retries remaining, so the task will be "
        "retried. Error: User exception: ValueError: boom"
    )
    assert "There are 2 retries remaining" in retry_notice("f", 2, ValueError("boom"))


class _Opts:
    def __init__(self, name, get_if_exists=False):
        self.name = name
        self.get_if_exists = get_if_exists
        self.class_name = "A"


def test_a_dead_actor_holds_its_name_only_while_a_handle_lives():
    names = ends.NamedActors()
    actor = ends.ActorRecord(1, object, _Opts("x"), "ns")
    names.add(actor)
    handle = actor.handle()
    weak = names.get("x", "ns")  # Ray's get_actor handle: the same actor, not counted
    assert weak is not handle
    assert weak._actor is actor
    assert names.listed(False, "other") == []
    assert names.listed(True, "other") == [{"name": "x", "namespace": "ns"}]
    actor.state = ends.DEAD
    assert names.lookup("ns", "x") is actor  # a handle lives
    del handle
    assert names.lookup("ns", "x") is None  # the get_actor handle does not hold the name
    assert names.existing("ns", _Opts("x")) is None


def test_a_taken_name_gives_rays_error_or_the_existing_handle():
    names = ends.NamedActors()
    actor = ends.ActorRecord(1, object, _Opts("x"), "ns")
    names.add(actor)
    handle = actor.handle()
    existing = names.existing("ns", _Opts("x", get_if_exists=True))
    assert existing._actor is actor
    assert existing is not handle
    with pytest.raises(exc.ActorAlreadyExistsError, match=r"The name x \(namespace=ns\) is"):
        names.existing("ns", _Opts("x"))


def test_bundle_checks_have_rays_messages():
    assert bundle_demands([{"CPU": 1.5}, {"GPU": 1, "CPU": 0}], "PACK") == [
        {"CPU": 15_000},
        {"GPU": 10_000},
    ]
    for bundles, strategy, text in [
        ([{"CPU": 1}], "TIGHT", "Invalid placement group strategy TIGHT"),
        ([], "PACK", "cannot contain an empty list"),
        ([{"CPU": 0}], "PACK", "Bundles cannot be an empty dictionary"),
    ]:
        with pytest.raises(ValueError, match=text):
            bundle_demands(bundles, strategy)
