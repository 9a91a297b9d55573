"""On sim, Ray's ids come from the seed: one seed gives the same node, worker, task, actor, object
and placement-group ids on every run, another seed gives other ones (as each Ray cluster has its
own random ids); they have Ray's structure and read back from their bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import simray
from simray import _ids as sim_ids
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


# -- task, actor, object and placement-group ids ---------------------------------------------


@simray.remote
def _task_id() -> str:
    return simray.get_runtime_context().get_task_id()


@simray.remote
def _puts() -> tuple[str, str]:
    return simray.get_runtime_context().get_task_id(), simray.put(0).hex()


@simray.remote
def _gen():
    yield 1
    yield 2


@simray.remote
class _Actor:
    def __init__(self):
        self.creation = simray.get_runtime_context().get_task_id()

    def ids(self) -> tuple[str, str, str]:
        ctx = simray.get_runtime_context()
        return ctx.get_task_id(), ctx.get_actor_id(), self.creation


def _run_ids(seed: int) -> dict[str, object]:
    """Every kind of id one small program sees, as hex strings; checks Ray's structure."""
    from simray.util.placement_group import placement_group

    simray.init(num_cpus=2, seed=seed)
    try:
        put = simray.put(1)
        ref = _task_id.remote()
        task_hex = simray.get(ref)
        assert ref.task_id().hex() == task_hex  # a return names its task
        assert ref.hex() == task_hex + "01000000"  # ... with index 1
        assert task_hex.endswith("ff" * 12 + "01000000")  # a normal task: the job's nil actor
        inner_task, inner_put = simray.get(_puts.remote())
        assert inner_put[2:48] == inner_task[2:]
        assert inner_put[:2] == "00"
        a = _Actor.remote()
        call = a.ids.remote()
        call_task, actor_hex, creation = simray.get(call)
        actor_id = a._actor_id
        assert actor_id.hex() == actor_hex
        assert actor_id.job_id == simray.JobID.from_int(1)
        assert creation == "ff" * 8 + actor_hex  # Ray's actor creation TaskID
        assert call.task_id().actor_id() == actor_id  # a call's TaskID embeds its actor
        assert call.task_id().hex() == call_task
        yields = [r.hex() for r in _gen.remote()]
        assert [y[-8:] for y in yields] == ["02000000", "03000000"]  # Ray's yield indexes
        pg = placement_group([{"CPU": 1}])
        simray.get(pg.ready())
        assert pg.id.hex().endswith("01000000")
        assert len(pg.id.binary()) == 18
        for r in (put, ref, call):  # a ref rebuilt from its bytes is the same object
            again = simray.ObjectRef(r.binary())
            assert again == r
            assert again.hex() == r.hex()
            assert simray.get(again) == simray.get(r)
        for cls, value in (
            (simray.TaskID, task_hex),
            (simray.ActorID, actor_hex),
            (simray.PlacementGroupID, pg.id.hex()),
        ):
            assert cls.from_hex(value).hex() == value
            assert cls.from_binary(bytes.fromhex(value)).binary() == bytes.fromhex(value)
        return {
            "put": put.hex(),
            "task": task_hex,
            "inner": (inner_task, inner_put),
            "actor": actor_hex,
            "call": call_task,
            "yields": yields,
            "pg": pg.id.hex(),
        }
    finally:
        simray.shutdown()


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_task_actor_object_pg_ids_follow_the_seed(a: int, b: int):
    first = _run_ids(a)
    assert _run_ids(a) == first
    other = _run_ids(b)
    if a == b:
        assert other == first
        return
    # The driver's puts are named after the driver's fixed TaskID (as in Ray): the same.
    assert other["put"] == first["put"]
    for key in ("task", "actor", "call", "pg"):
        assert other[key] != first[key], key
    assert other["yields"] != first["yields"]


_FIELDS = st.tuples(
    st.integers(0, 2**55 - 1),  # task number
    st.one_of(st.integers(1, 50), st.integers(sim_ids.PUT_INDEX_BASE + 1, 2**32 - 1)),
    st.integers(0, 2**32 - 1),  # actor number
    st.integers(0, 255),  # attempt (puts)
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**63), _FIELDS)
def test_object_ids_round_trip(seed: int, fields: tuple[int, int, int, int]):
    task, index, actor, attempt = fields
    if index <= sim_ids.PUT_INDEX_BASE:
        attempt = 0  # only a put's id carries its attempt
    if task == 0 and actor:
        task = 1  # the driver makes no actor calls
    ids = sim_ids.SimIds(seed)
    number = sim_ids.object_number(task, index, actor, attempt)
    binary = ids.object_binary(number)
    assert len(binary) == 28
    assert ids.object_number(binary) == number
    assert binary[:24][1:] == ids.task_binary(task, actor)[1:]
    assert int.from_bytes(binary[24:], "little") == index
    # Bytes this session did not make name no object of it, and are kept as given.
    other = bytes([binary[0] ^ 1]) + binary[1:] if index <= sim_ids.PUT_INDEX_BASE else None
    if other is not None:
        assert ids.object_binary(ids.object_number(other)) == other
        assert ids.object_number(other) & sim_ids.FOREIGN
