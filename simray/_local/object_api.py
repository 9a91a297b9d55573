"""The local backend's object API in the driver: how values and refs cross to workers, and
`get`, `wait` and `put` on the driver's object table.

`ObjectAPI` is mixed into `LocalBackend`, as the sim's `ObjectAPI` is into `SimBackend`.
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from simray import exceptions as exc
from simray._actor import ActorHandle
from simray._local import ids as local_ids
from simray._local import serialization as ser
from simray._local import shm
from simray._local.objects import FAILED, PENDING, READY, Entry, LocalRef, Waiter
from simray._object_ref import ObjectRef, as_raised, not_a_ref, refs_to_get


class ObjectAPI:
    """Mixed into LocalBackend: everything that stores, sends, reads or waits for objects."""

    # Provided by LocalBackend.
    lock: Any
    table: Any
    ids: Any
    actors: Any
    pgs: Any
    arena: shm.Arena
    shm_prefix: str
    _shm_count: int
    procs: Any
    sent_segments: set[str]
    _unmap: list[str]
    call_soon: Any

    def token(self, obj: Any) -> Any:
        if isinstance(obj, LocalRef):
            # Whoever packs under `with_refs` counts the refs (pins or lends them); a ref
            # written anywhere else (an exported function) is kept until shutdown.
            if not ser.noted(obj.entry):
                obj.entry.escaped = True
            return ("r", obj._id)
        if type(obj) is ObjectRef:  # rebuilt from its id: the ref it names
            return self.token(self.adopt(obj))
        if isinstance(obj, ObjectRef):
            raise ValueError(
                "an ObjectRef of another session cannot be passed: refs do not outlive the "
                "session (init/shutdown) that made them"
            )
        if isinstance(obj, ActorHandle):
            # Arguments count it (see `pack_args`); copies written elsewhere may live where the
            # driver does not count them.
            if not ser.noted_actor(obj._actor):
                obj._actor.escaped = True
            return ("a", obj._actor.actor_id, obj._cls)
        record = obj._record
        record.ready_ref.entry.escaped = True
        return ("p", record.pg_id, obj.bundle_specs, record.strategy, record.ready_ref._id)

    def load(self, pid: Any) -> Any:
        kind = pid[0]
        if kind == "r":
            entry = self.table.entries.get(pid[1])
            if entry is None:
                raise ValueError(f"object {pid[1]} is no longer in this session")
            return LocalRef(entry, self.table)
        if kind == "a":
            return self.actors.by_id[pid[1]].handle()
        return self.pgs.by_id[pid[1]].handle

    def pack(self, value: Any) -> Any:
        return ser.pack(value, self.token)

    def _segment_name(self) -> str:
        with self.lock:
            self._shm_count += 1
            return f"{self.shm_prefix}d{self._shm_count}"

    def _store(self, wire: Any) -> Any:
        """Where `put` writes a large value: the arena (a freed segment that fits, or a new one)."""
        return self.arena.write(wire, self._segment_name)

    def wire_for_worker(self, entry: Any) -> Any:
        """What a worker is sent for a resolved entry: large values move to shm once."""
        if entry.state == FAILED:
            return ("e", cloudpickle.dumps(entry.error))
        wire = ser.shareable(entry.wire)
        if wire[0] == "i" and ser.size_of(wire) >= ser.SHM_THRESHOLD:
            self._shm_count += 1
            wire = entry.wire = shm.write(wire, f"{self.shm_prefix}d{self._shm_count}")
        elif wire[0] == "s":
            self.arena.shared(wire[1])
        return wire

    def args_for_worker(
        self, proc: Any, args: list[Any], kwargs: dict[str, Any], nested: list[Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """A call's arguments as `proc` is sent them, the refs they carry lent to it."""
        self.lend(proc, nested)
        return (
            [
                self.lend_value(proc, a[1]) if a[0] == "ref" else self.arg_for_worker(a)
                for a in args
            ],
            {
                k: self.lend_value(proc, v[1]) if v[0] == "ref" else self.arg_for_worker(v)
                for k, v in kwargs.items()
            },
        )

    def arg_for_worker(self, arg: Any) -> Any:
        """What a worker is sent for one packed argument: a ref's value (see
        `wire_for_worker`), or a large inline value in a one-shot segment that the worker
        unlinks once it has mapped it (a NumPy argument then reaches it without a copy)."""
        if arg[0] == "ref":
            return self.wire_for_worker(arg[1])
        if arg[0] == "i" and ser.size_of(arg) >= ser.SHM_THRESHOLD:
            self._shm_count += 1
            return shm.write(arg, f"{self.shm_prefix}a{self._shm_count}", once=True)
        return arg

    def _freed(self, entry: Any) -> None:
        wire = entry.wire
        if wire is None or wire[0] != "s":
            return
        name = wire[1]
        if not self.arena.freed(name):
            shm.unlink(name)
        if name in self.sent_segments:
            # Workers drop their cached mappings (a value still viewing one keeps it).
            self.sent_segments.discard(name)
            if not self._unmap:
                self.call_soon(self._send_unmap)
            self._unmap.append(name)

    def _send_unmap(self) -> None:
        names, self._unmap = self._unmap, []
        if names:
            for proc in list(self.procs.all.values()):
                proc.send(("unmap", names))

    def lend(self, proc: Any, entries: Any) -> None:
        """`proc` is sent refs to `entries` (one per ref it will load): they stay while it
        may hold them, until it reports their release (see `released`)."""
        lent = proc.lent
        for entry in entries:
            count = lent.get(entry)
            if count is None:
                lent[entry] = 1
                entry.borrowers += 1
            else:
                lent[entry] = count + 1

    def released(self, proc: Any, pairs: list[tuple[int, int]]) -> None:
        """`proc` dropped its last ref to each id, having loaded it `n` times in all."""
        lent = proc.lent
        entries = self.table.entries
        for oid, n in pairs:
            entry = entries.get(oid)
            count = lent.get(entry) if entry is not None else None
            if count is None:
                continue
            if count > n:
                lent[entry] = count - n  # sent again meanwhile: still on its way
            else:
                del lent[entry]
                entry.borrowers -= 1
                self.table.settle(entry)

    def lend_value(self, proc: Any, entry: Any) -> Any:
        """`wire_for_worker(entry)` for `proc`, the refs inside its value lent to it."""
        wire = self.wire_for_worker(entry)
        if entry.inner:
            self.lend(proc, entry.inner)
        if wire[0] == "s":
            self.sent_segments.add(wire[1])
        return wire

    def find_ref(self, object_id: int) -> LocalRef | None:
        """A ref to the live object with this id (for `ObjectRef(binary)`), or None."""
        with self.lock:
            entry = self.table.entries.get(object_id)
            return LocalRef(entry, self.table) if entry is not None else None

    def adopt(self, ref: ObjectRef) -> LocalRef:
        """The driver's ref that a rebuilt `ObjectRef(binary)` names; an id with no live object
        gives a ref that never resolves (Ray's `get` of it waits until its timeout)."""
        held = ref._held
        if type(held) is not LocalRef:
            held = ref._held = self.find_ref(ref._id) or LocalRef(Entry(ref._id), self.table)
        return held

    def _adopt_all(self, refs: list[Any]) -> list[Any]:
        return [self.adopt(r) if type(r) is ObjectRef else r for r in refs]

    def new_ref(self, oid: int, task: Any = None) -> LocalRef:
        """A pending ref to a new object numbered `oid` (see `_local.ids`), made by `task`."""
        return LocalRef(self.table.new(oid, task), self.table)

    def wait_mixed(
        self, items: list[Any], num_returns: int, timeout: float | None
    ) -> tuple[list[Any], list[Any]]:
        from simray._local.streams import wait_mixed

        return wait_mixed(self, items, num_returns, timeout)

    def when_ready(self, deps: list[Any], then: Any) -> None:
        pending = [d for d in deps if d.state == PENDING]
        if not pending:
            then()
            return
        Waiter(len(pending), False, then).watch(pending)

    def get(self, refs: Any, timeout: float | None) -> Any:
        refs, single = refs_to_get(refs)
        refs = self._adopt_all(refs)
        for ref in refs:
            if type(ref) is not LocalRef:
                not_a_ref("get", ref)
        with self.lock:
            entries = [r.entry for r in refs]
            pending = [e for e in entries if e.state == PENDING]
            failed = any(e.state == FAILED for e in entries)
            waiter = None
            if pending and not failed:
                if timeout is not None and timeout <= 0:
                    raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
                waiter = Waiter(len(pending), True)
                waiter.watch(pending)
        if waiter is not None and not waiter.event.wait(timeout):  # type: ignore[union-attr]
            with self.lock:
                waiter.cancel()
            raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
        values = []
        for entry in entries:
            state = entry.state
            if state == READY:
                values.append(ser.unpack(entry.wire, self.load))
            elif state == FAILED:
                raise as_raised(entry.error)
        return values[0] if single else values

    def wait(
        self, refs: list[Any], num_returns: int, timeout: float | None, fetch_local: bool
    ) -> tuple[list[Any], list[Any]]:
        asked, refs = refs, self._adopt_all(refs)
        for ref in refs:
            if type(ref) is not LocalRef:
                not_a_ref("wait", ref)
        with self.lock:
            entries = [r.entry for r in refs]
            done = sum(1 for e in entries if e.state != PENDING)
            waiter = None
            if done < num_returns and (timeout is None or timeout > 0):
                waiter = Waiter(num_returns - done, False)
                waiter.watch([e for e in entries if e.state == PENDING])
        if waiter is not None:
            waiter.event.wait(timeout)  # type: ignore[union-attr]
            with self.lock:
                waiter.cancel()
        with self.lock:
            ready: list[Any] = []
            not_ready: list[Any] = []
            for ref, given in zip(refs, asked, strict=True):  # the caller's own refs back
                if ref.entry.state != PENDING and len(ready) < num_returns:
                    ready.append(given)
                else:
                    not_ready.append(given)
        return ready, not_ready

    def put(self, value: Any) -> LocalRef:
        try:
            wire, inner = ser.with_refs(lambda: ser.pack_for_put(value, self.token, self._store))
        except Exception as e:
            raise TypeError(
                f"Could not serialize the put value {value!r}: {type(e).__name__}: {e}. "
                "Objects are stored as copies (cloudpickle); put a picklable value."
            ) from e
        with self.lock:
            ref = self.new_ref(local_ids.driver_put_id(self.ids.new_put()))
            self.table.hold(ref.entry, wire, inner)
        return ref

    async def await_ref(self, ref: Any) -> Any:
        import asyncio

        if type(ref) is ObjectRef:
            ref = self.adopt(ref)
        if type(ref) is not LocalRef:
            not_a_ref("await", ref)
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def resolved(_entry: Any) -> None:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))

        with self.lock:
            ref.entry.on_ready(resolved)
        await future
        return self.get(ref, None)

    def ref_future(self, ref: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        if type(ref) is ObjectRef:
            ref = self.adopt(ref)

        def resolved(entry: Any) -> None:
            if entry.state == READY:
                future.set_result(ser.unpack(entry.wire, self.load))
            else:
                future.set_exception(as_raised(entry.error))

        with self.lock:
            ref.entry.on_ready(resolved)
        return future


def first_error(entries: list[Any]) -> BaseException | None:
    return next((e.error for e in entries if e.state == FAILED), None)
