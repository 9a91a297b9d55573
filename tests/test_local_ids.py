"""Object ids on the local backend, in Ray 2.60's layout (`simray._local.ids`): each ObjectID is
its maker's TaskID and an index (returns 1..n, yields 2, 3, ..., puts 10^8 + returns + n with
the attempt in the TaskID's first byte, the driver's counted through the session, an async
actor's, its constructor's too, under one TaskID through its life, as on Ray 2.60), and no id is handed out twice in a session, whatever mix of
driver puts, tasks, nested tasks, actor calls and retries made them.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import simray
from tests.local_leaks import end_session_without_leaks

pytestmark = pytest.mark.xdist_group("local")

BASE = 100_000_000
DRIVER_PUT_TASK = bytes.fromhex("00" + "ff" * 19 + "01000000")
NIL_ACTOR = "ff" * 12 + "01000000"


@pytest.fixture(autouse=True)
def _no_leaks():
    yield
    end_session_without_leaks()


def _made(returns, puts):
    """What a task or call reports: its TaskID and its puts (and filler returns)."""
    info = [simray.get_runtime_context().get_task_id(), [simray.put(i) for i in range(puts)]]
    return info if returns == 1 else (info, *range(returns - 1))


@simray.remote
def work(returns, puts):
    return _made(returns, puts)


@simray.remote
def parent(puts):
    """A task that puts and submits a child task (whose ref it returns)."""
    child = work.remote(1, puts)
    return [*_made(1, puts), child]


@simray.remote
def generator(n):
    for i in range(n):
        yield [simray.get_runtime_context().get_task_id(), [simray.put(i)]]


@simray.remote(max_retries=1, retry_exceptions=True)
def flaky(marker, keeper, puts):
    """Puts, and fails its first attempt after handing those puts to `keeper` (so they stay)."""
    info = _made(1, puts)
    if not os.path.exists(marker):
        open(marker, "w").close()
        simray.get(keeper.keep.remote(info))
        raise ValueError("the first attempt fails")
    return info


@simray.remote
class Keeper:
    def __init__(self):
        self.kept = []
        self.made = [simray.put("made by the constructor")]

    def constructor_puts(self):
        return self.made

    def keep(self, info):
        self.kept.append(info)

    def take(self):
        kept, self.kept = self.kept, []
        return kept

    def work(self, returns, puts):
        return _made(returns, puts)


@simray.remote
class AsyncWorker:
    def __init__(self):
        self.made = [simray.put("made by the constructor")]

    async def constructor_puts(self):
        return self.made

    async def work(self, puts):
        return _made(1, puts)


def _index(ref) -> int:
    return int.from_bytes(ref.binary()[24:], "little")


class Ids:
    """Every id the session handed out so far, and checks of each new one's layout."""

    def __init__(self):
        self.seen: set[bytes] = set()
        self.driver_puts = 0
        self.loop_task = b""  # the async actor's puts' TaskID
        self.loop_index = BASE  # and its last put index

    def new(self, ref) -> bytes:
        binary = ref.binary()
        assert binary not in self.seen, f"id {binary.hex()} handed out twice"
        self.seen.add(binary)
        return binary

    def returns(self, refs, task_hex):
        for i, ref in enumerate(refs, 1):
            assert self.new(ref)[:24].hex() == task_hex
            assert _index(ref) == i

    def puts(self, refs, task_hex, returns, attempt=0):
        task = bytes.fromhex(task_hex)
        for n, ref in enumerate(refs, 1):
            binary = self.new(ref)
            assert binary[0] == attempt
            assert binary[1:24] == task[1:]
            assert _index(ref) == BASE + returns + n

    def loop_puts(self, refs, call_hex):
        for ref in refs:
            task = self.new(ref)[:24]
            assert task.hex() != call_hex  # not the call's: one TaskID for the actor's puts
            assert task == (self.loop_task or task)
            self.loop_task = task
            assert _index(ref) == self.loop_index + 1
            self.loop_index += 1


_op = st.tuples(
    st.sampled_from(["put", "task", "nested", "call", "async", "generator", "retry"]),
    st.integers(1, 3),  # returns (or yields)
    st.integers(0, 2),  # puts
)


@pytest.fixture
def shared_session(tmp_path):
    """One session and its actors for all of a property test's examples."""
    simray.init(backend="local", num_cpus=2)
    ids, keeper, async_worker = Ids(), Keeper.remote(), AsyncWorker.remote()
    (made,) = simray.get(keeper.constructor_puts.remote())
    assert _index(made) == BASE + 1  # a creation task has no returns to count above
    ids.new(made)
    ids.loop_puts(simray.get(async_worker.constructor_puts.remote()), "")
    yield ids, keeper, async_worker, tmp_path
    simray.shutdown()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(_op, min_size=1, max_size=6))
@example(  # every kind at least once, whatever the examples drawn
    ops=[("put", 1, 1), ("task", 2, 2), ("nested", 1, 1), ("call", 3, 1), ("async", 1, 2),
         ("generator", 2, 1), ("retry", 1, 2), ("async", 1, 1), ("put", 1, 0)],
)  # fmt: skip
def test_ids_follow_rays_layout_and_never_repeat(shared_session, ops):
    ids, keeper, async_worker, tmp_path = shared_session
    for op, returns, puts in ops:
        if op == "put":
            ref = simray.put(op)
            ids.driver_puts += 1
            assert ids.new(ref)[:24] == DRIVER_PUT_TASK
            assert _index(ref) == BASE + ids.driver_puts
        elif op in ("task", "call"):
            maker = work if op == "task" else keeper.work
            refs = maker.options(num_returns=returns).remote(returns, puts)
            refs = [refs] if returns == 1 else refs
            task_hex, made = simray.get(refs[0])
            # A TaskID: 8 unique bytes + the ActorID (the nil actor's for a normal task)
            assert task_hex[16:] == (keeper._actor_id.hex() if op == "call" else NIL_ACTOR)
            assert refs[0].job_id().hex() == "01000000"
            ids.returns(refs, task_hex)
            ids.puts(made, task_hex, returns)
        elif op == "nested":
            ref = parent.remote(puts)
            task_hex, made, child = simray.get(ref)
            ids.returns([ref], task_hex)
            ids.puts(made, task_hex, 1)
            child_hex, child_made = simray.get(child)
            ids.returns([child], child_hex)
            ids.puts(child_made, child_hex, 1)
        elif op == "async":
            ref = async_worker.work.remote(puts)
            task_hex, made = simray.get(ref)
            ids.returns([ref], task_hex)
            ids.loop_puts(made, task_hex)
        elif op == "generator":
            refs = list(generator.options(num_returns="streaming").remote(returns))
            all_made = []  # one execution: its puts count on from yield to yield
            for n, ref in enumerate(refs, 2):  # yields are indexes 2, 3, ... of the task
                task_hex, made = simray.get(ref)
                assert ids.new(ref)[:24].hex() == task_hex
                assert _index(ref) == n
                all_made += made
            ids.puts(all_made, task_hex, 1)
        else:  # a retried task: its attempts' puts share indexes, not ids
            marker = str(tmp_path / f"attempt-{len(ids.seen)}")
            ref = flaky.remote(marker, keeper, puts)
            task_hex, made = simray.get(ref)
            ((first_hex, first_made),) = simray.get(keeper.take.remote())
            assert first_hex == task_hex
            ids.returns([ref], task_hex)
            ids.puts(first_made, task_hex, 1, attempt=0)
            ids.puts(made, task_hex, 1, attempt=1)
