"""On sim, Ray's ids come from the seed: one seed gives the same node and worker ids on every
run, another seed gives other ones (as each Ray cluster has its own random ids)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import simray
from simray.util.state import list_nodes, list_workers


@simray.remote
def worker_id() -> str:
    return simray.get_runtime_context().get_worker_id()


def _ids(seed: int) -> tuple[list[str], list[str], str]:
    simray.init(num_cpus=1, seed=seed)
    try:
        simray.get(worker_id.remote())  # the first task: its worker id depends on the seed only
        nodes = [n.node_id for n in list_nodes()]
        workers = [w.worker_id for w in list_workers()]
        return nodes, workers, simray.get(worker_id.remote())
    finally:
        simray.shutdown()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_ids_follow_the_seed(a: int, b: int):
    first = _ids(a)
    assert _ids(a) == first
    other = _ids(b)
    if a == b:
        assert other == first
    else:
        assert set(other[0]).isdisjoint(first[0])
        assert set(other[1]).isdisjoint(first[1])
        assert other[2] != first[2]
