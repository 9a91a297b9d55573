"""Concurrency groups on sim: bad declarations and unknown groups fail with clear errors."""

import pytest

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
