"""The object API of the sim backend: `get`, `wait`, `put`, `await ref`, and blocking on refs.

A normal task blocked here gives its CPU back until it resumes (Ray's rule for nested tasks);
actors and the driver keep everything they hold.
"""

from __future__ import annotations

from typing import Any

from simray import _ids
from simray import exceptions as exc
from simray._ids import IdAllocator
from simray._object_ref import ObjectRef, as_raised, not_a_ref
from simray._sim.kernel import Kernel, Unit
from simray._sim.objects import (
    FAILED,
    PENDING,
    READY,
    Packed,
    SimRef,
    new_ref,
    owner_node,
    pack,
    unpack,
)
from simray._sim.tasks import Task
from simray._sim.trace import TraceRecorder

_TIMED_OUT = object()


class Waiter:
    """Wakes a blocked unit when `need` of its refs are resolved (or any failed, for get).

    It is the refs' callback itself: the fast end in `SimBackend._run_task`, which resolves most
    refs, counts a ready one off inline instead of calling it. The count is `left`, a list of
    `need` Nones popped one per ref: popping costs less than the new int that a count past 256
    would make at every step. `plain` stays True while every ref it counted was resolved that inline way
    (a ready immutable scalar of a head-node task, which no fault can take back)."""

    __slots__ = ("kernel", "unit", "left", "stop_on_error", "active", "plain")

    def __init__(self, kernel: Kernel, unit: Unit, need: int, stop_on_error: bool):
        self.kernel = kernel
        self.unit = unit
        self.left = [None] * need
        self.stop_on_error = stop_on_error
        self.active = True
        self.plain = True

    def __call__(self, ref: SimRef) -> None:
        """A ref's callback: count it off (a failure ends a get's wait at once)."""
        self.plain = False
        left = self.left
        if ref.state == FAILED and self.stop_on_error:
            left.clear()
        elif left:
            left.pop()
        if not left:
            self.done()

    def done(self) -> None:
        """Wake the unit, once (no more if it was woken already or its wait timed out)."""
        if self.active:
            self.active = False
            self.kernel.wake(self.unit)


class ObjectAPI:
    """Mixed into SimBackend: everything that reads or waits for objects."""

    # Provided by SimBackend.
    kernel: Kernel
    scheduler: Any
    actors: Any
    ids: IdAllocator
    recorder: TraceRecorder
    latency: Any  # the LatencyModel, None when remote operations are free
    epoch: int  # the session's number: its refs carry it
    _puts: _ids.PutCounts | None = None  # per-unit put counts, made at the first put

    def wait_refs(
        self,
        pending: list[SimRef],
        need: int,
        stop_on_error: bool,
        timeout: float | None,
    ) -> Waiter | None:
        """Block the current unit until `need` refs resolve: the waiter (true) when they did,
        None if the timeout came first."""
        kernel = self.kernel
        waiter = Waiter(kernel, kernel.current, need, stop_on_error)
        for ref in pending:
            if ref.callbacks is None and ref.state == PENDING:
                ref.callbacks = waiter  # `on_ready` for the common case, without the call
                continue
            ref.on_ready(waiter)
            if not waiter.active:
                return waiter
        return self._block_on(waiter, pending, timeout)

    def _block_on(self, waiter: Waiter, refs: list[SimRef], timeout: float | None) -> Any:
        """Block the current unit until `waiter`, on `refs`, wakes it: the waiter, or None if
        the timeout came first. A task gives its CPU back meanwhile."""
        kernel = self.kernel
        unit = waiter.unit
        if timeout is not None:
            kernel.wake_at(kernel.now + timeout, unit, _TIMED_OUT)
        task = unit if type(unit) is Task else None
        if task is not None:
            self.recorder.record("block", task=task.task_id)
            cpu = task.demand.get("CPU")
            if cpu:
                task.cpu_released = True
                task.pool.shift_cpu(cpu)
                self.scheduler.dispatch()
        try:
            result = kernel.block(("objects", refs))
        finally:
            waiter.active = False
            if task is not None and task.cpu_released:
                task.cpu_released = False
                task.pool.shift_cpu(-task.demand["CPU"])
                self.recorder.record("unblock", task=task.task_id)
        return None if result is _TIMED_OUT else waiter

    def rebuild_ref(self, binary: bytes) -> tuple[int, SimRef | None]:
        """For `ObjectRef(binary)`: the number of the object with that ObjectID and its live
        ref, or None (an unknown or freed id). It searches the heap: rebuilding a ref is rare,
        and the hot path then keeps no index of refs."""
        import gc

        number = _ids.of_epoch(self.epoch).object_number(binary)
        if number & _ids.FOREIGN:
            return number, None
        for obj in gc.get_objects():
            # getattr: a SimRef whose `new_ref` the livelock guard interrupted may lack its id
            # or, the id being set first, its epoch.
            if (
                type(obj) is SimRef
                and getattr(obj, "_id", None) == number
                and getattr(obj, "epoch", None) == self.epoch
            ):
                return number, obj
        # No such object now: the ref keeps the id's bytes and names nothing, as Ray's would.
        return _ids.FOREIGN | int.from_bytes(binary, "big"), None

    def adopt(self, ref: ObjectRef) -> SimRef:
        """The SimRef a rebuilt `ObjectRef(binary)` names; an id with no live object gives a ref
        that never resolves (Ray's `get` of such a ref waits until its timeout)."""
        held = ref._held
        if type(held) is SimRef:
            return held
        number, found = self.rebuild_ref(ref.binary())
        held = ref._held = found or new_ref(number)  # an id without an object: never resolves
        return held

    def _adopt_all(self, refs: list[Any]) -> list[Any]:
        return [self.adopt(r) if type(r) is ObjectRef else r for r in refs]

    # -- the object API -----------------------------------------------------------------------
    def get(self, refs: Any, timeout: float | None) -> Any:
        single = isinstance(refs, ObjectRef)
        if single:
            refs = [refs]
        elif not isinstance(refs, list):
            raise ValueError(
                f"Invalid type of object refs, {type(refs)}, is given. 'object_refs' must "
                "either be an ObjectRef or a list of ObjectRefs. "
            )
        # One pass over the refs finds the failed and settled ones and puts the waiter on
        # each pending one as it is met (as `wait_refs` would, in a second pass); if the get
        # then does not wait, the waiter is let go (inactive, it wakes no one).
        kernel = self.kernel
        waiter = Waiter(kernel, kernel.current, 0, True)  # its count is set once known
        settled = 0  # refs ready or failed already
        failed = False
        for ref in refs:
            if type(ref) is not SimRef:
                waiter.active = False
                if type(ref) is ObjectRef:  # rebuilt from an id: get what it names
                    adopted = self._adopt_all(refs)
                    return self.get(adopted[0] if single else adopted, timeout)
                not_a_ref("get", ref)
            if ref.state == PENDING:
                if ref.callbacks is None:
                    ref.callbacks = waiter  # `on_ready` for the common case, without the call
                else:
                    ref.on_ready(waiter)
            else:
                settled += 1
                if ref.state == FAILED:
                    failed = True
        if failed or settled == len(refs):
            waiter.active = False
        else:
            waiter.left = [None] * (len(refs) - settled)
            if timeout is not None and timeout <= 0:
                waiter.active = False
                raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
            if self._block_on(waiter, refs, timeout) is None:
                raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
            if waiter.plain and not settled:
                # Every ref was pending and then resolved inline to a ready immutable scalar
                # that no fault can take back (see `Waiter`): the values are the stored ones.
                values = [ref.stored for ref in refs]
                return values[0] if single else values
        # Values in order; `_read` copies a pickled one out and raises the first failure.
        values = [
            ref.stored
            if ref.state == READY and type(ref.stored) is not Packed
            else _read(ref, refs)
            for ref in refs
        ]
        return values[0] if single else values

    def wait(
        self,
        refs: list[Any],
        num_returns: int,
        timeout: float | None,
        fetch_local: bool,
    ) -> tuple[list[Any], list[Any]]:
        for ref in refs:
            if type(ref) is not SimRef:
                if type(ref) is ObjectRef:  # rebuilt from an id: wait for what it names
                    ready, not_ready = self.wait(
                        self._adopt_all(refs), num_returns, timeout, fetch_local
                    )
                    # The caller gets back the refs it passed, split as their objects are.
                    ids = {id(r) for r in ready}
                    adopted = self._adopt_all(refs)
                    return (
                        [r for r, a in zip(refs, adopted, strict=True) if id(a) in ids],
                        [r for r, a in zip(refs, adopted, strict=True) if id(a) not in ids],
                    )
                not_a_ref("wait", ref)
        done = sum(1 for r in refs if r.state != PENDING)
        if done < num_returns and (timeout is None or timeout > 0):
            pending = [r for r in refs if r.state == PENDING]
            self.wait_refs(pending, num_returns - done, False, timeout)
        ready: list[Any] = []
        not_ready: list[Any] = []
        for ref in refs:
            if ref.state != PENDING and len(ready) < num_returns:
                ready.append(ref)
            else:
                not_ready.append(ref)
        return ready, not_ready

    def put(self, value: Any) -> SimRef:
        try:
            stored = pack(value)
        except Exception as e:
            raise TypeError(
                f"Could not serialize the put value {value!r}: {type(e).__name__}: {e}. "
                "Objects are stored as copies (cloudpickle); put a picklable value."
            ) from e
        ref = new_ref(self._put_number())
        ref.resolve(READY, stored)
        if (
            self.kernel.current is not self.kernel.driver
        ):  # a task put it: Ray's owner is that worker
            ref.owner = owner_node(self.kernel.current)
        model = self.latency
        if model is not None and self.kernel.current is not None:
            # Storing costs the caller a copy into the object store (see `_sim.latency`).
            kind = type(stored)
            size = (
                len(stored.data) if kind is Packed else len(stored) if kind in (bytes, str) else 8
            )
            self.kernel.sleep_until(self.kernel.now + model.put + size * model.per_byte)
        return ref

    def _put_number(self) -> int:
        """A put's number: Ray names a put after the attempt of the task (or actor call, or
        driver) that made it, with an index counting that attempt's puts above its returns
        (`_ids.PutCounts`)."""
        puts = self._puts
        if puts is None:
            puts = self._puts = _ids.PutCounts()
        unit = self.kernel.current
        base = _ids.PUT_INDEX_BASE
        if type(unit) is Task:
            creating = getattr(unit.opts, "actor", None)
            if creating is not None:
                if creating.opts.is_async:
                    # An async actor's constructor puts on its event loop's count, as its
                    # calls do after it (Ray: 10^8 + 1, then the first call's 10^8 + 2).
                    index = base + puts.on_loop(creating.actor_id)
                    return _ids.object_number(unit.task_id, index, 0, unit.attempt)
                returns = 0  # Ray counts a constructor's puts from 10^8 + 1
            else:
                returns = unit.opts.num_returns
            attempt = unit.attempt
            number = _ids.object_number(unit.task_id, base, 0, attempt)
            n = puts.next(number, unit, returns if type(returns) is int else 1)
            return number + (n << _ids.INDEX_SHIFT)
        actor = getattr(unit, "actor", None)
        if actor is None:  # the driver: its count goes on through the session
            return _ids.object_number(0, base + self.ids.new_put())
        if hasattr(unit, "call_id"):  # a call of a sync or threaded actor
            number = _ids.object_number(unit.call_id, base, actor.actor_id, unit.attempts - 1)
            return number + (puts.next(number, unit, len(unit.returns)) << _ids.INDEX_SHIFT)
        # An async actor: Ray's event-loop thread puts under its own task id, with a count
        # that never restarts.
        index = base + puts.on_loop(actor.actor_id)
        call = self.actors.current_async_call()
        if call is None:
            return _ids.object_number(0, index, actor.actor_id)
        return _ids.object_number(call.call_id, index, actor.actor_id, call.attempts - 1)

    async def await_ref(self, ref: SimRef) -> Any:
        """`await ref` inside asyncio code (driver or task): the value, or the error raised."""
        if type(ref) is ObjectRef:
            ref = self.adopt(ref)
        if type(ref) is not SimRef:
            not_a_ref("await", ref)
        if ref.state == PENDING:
            import asyncio

            loop = asyncio.get_running_loop()
            future = loop.create_future()
            unit = self.kernel.current

            def resolved(_ref: SimRef) -> None:
                if not future.done():
                    future.set_result(None)
                if (
                    unit is not None
                    and unit.blocked_on is not None
                    and unit.blocked_on[0] == "asyncio"
                ):
                    self.kernel.wake(unit)

            ref.on_ready(resolved)
            await future
        return self.get(ref, None)

    def ref_future(self, ref: SimRef) -> Any:
        """A concurrent.futures.Future set when `ref` resolves."""
        from concurrent.futures import Future

        future: Future[Any] = Future()

        def resolved(_ref: SimRef) -> None:
            if ref.state == READY:
                future.set_result(unpack(ref.stored))
            else:
                future.set_exception(as_raised(ref.stored))

        ref.on_ready(resolved)
        return future


def _read(ref: SimRef, refs: list[SimRef]) -> Any:
    """`get`'s value of `ref` when it is not a ready scalar: a fresh copy, or the error of the
    first failed ref (a ref still pending means a failure ended the wait; none before it)."""
    if ref.state == READY:
        return unpack(ref.stored)
    if ref.state != FAILED:
        ref = next(r for r in refs if r.state == FAILED)
    raise as_raised(ref.stored)
