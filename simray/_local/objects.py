"""The driver's object table: one entry per object, with its state, stored form and waiters.

Entries are created at submission (a task's outputs) or by `put`; the driver's `LocalRef`s
point at them. An entry no ref in the driver names, and that never left the driver inside a
pickle or a reply, is dropped with its last ref (so `get(put(x))` loops do not grow the table).
"""

from __future__ import annotations

import threading
from typing import Any

from simray._object_ref import ObjectRef

PENDING, READY, FAILED = 0, 1, 2


class Entry:
    """One object: PENDING until resolved to a wire form (READY) or an error (FAILED)."""

    __slots__ = (
        "oid", "state", "wire", "error", "callbacks", "task", "escaped", "nrefs", "inner", "owner",
        "pins", "borrowers",
    )  # fmt: skip

    def __init__(self, oid: int, task: Any = None):
        self.oid = oid
        self.state = PENDING
        self.wire: Any = None
        self.error: BaseException | None = None
        self.callbacks: list[Any] | None = None
        self.task = task  # what makes it (a task or an actor call), for cancel
        self.escaped = False  # named where no count follows it (an exported function)
        self.nrefs = 0  # the driver's refs to it
        self.pins = 0  # calls holding it as an argument, live values naming it
        self.borrowers = 0  # worker processes that may hold a ref to it
        self.inner: list[Entry] | None = None  # the objects its value names (it pins them)
        self.owner: Any = None  # the node of the worker that made it (None: the driver)

    def resolve(self, state: int, wire: Any = None, error: BaseException | None = None) -> None:
        if self.state != PENDING:
            return
        self.state = state
        self.wire = wire
        self.error = error
        self.task = None
        callbacks, self.callbacks = self.callbacks, None
        if callbacks:
            for cb in callbacks:
                cb(self)

    def on_ready(self, cb: Any) -> None:
        if self.state != PENDING:
            cb(self)
        elif self.callbacks is None:
            self.callbacks = [cb]
        else:
            self.callbacks.append(cb)

    def remove_callback(self, cb: Any) -> None:
        if self.callbacks and cb in self.callbacks:
            self.callbacks.remove(cb)


class LocalRef(ObjectRef):
    """An ObjectRef in the driver of a local session."""

    __slots__ = ("entry", "table")

    def __init__(self, entry: Entry, table: Table):
        self._id = entry.oid
        self.entry = entry
        self.table = table
        entry.nrefs += 1

    def __del__(self) -> None:
        try:
            self.table.dropped(self.entry)
        except Exception:  # noqa: BLE001 - at interpreter exit anything may be gone
            pass

    def __reduce__(self) -> Any:
        raise TypeError(
            "an ObjectRef of the local backend cannot be pickled outside a simray session; "
            "pass it to tasks or put() it instead"
        )


LocalRef.__name__ = LocalRef.__qualname__ = "ObjectRef"


class Table:
    """All entries of a session by id."""

    def __init__(self, lock: threading.RLock, on_free: Any):
        self.entries: dict[int, Entry] = {}
        self.lock = lock
        self.on_free = on_free
        self.closed = False

    def new(self, oid: int, task: Any = None) -> Entry:
        entry = self.entries[oid] = Entry(oid, task)
        return entry

    def dropped(self, entry: Entry) -> None:
        with self.lock:
            entry.nrefs -= 1
            if entry.nrefs <= 0:
                self.settle(entry)

    def settle(self, entry: Entry) -> None:
        """Free `entry` if nothing uses it any more: no driver ref, no call or live value
        pinning it, no worker borrowing it (under the lock). Its value's own refs are unpinned."""
        if (
            entry.nrefs > 0
            or entry.pins > 0
            or entry.borrowers > 0
            or entry.escaped
            or entry.state == PENDING
        ):
            return
        if self.entries.pop(entry.oid, None) is None:
            return
        inner, entry.inner = entry.inner, None
        if not self.closed:
            self.on_free(entry)
        if inner:
            self.unpin(inner)

    def pin(self, entries: list[Entry]) -> None:
        for entry in entries:
            entry.pins += 1

    def unpin(self, entries: list[Entry]) -> None:
        for entry in entries:
            entry.pins -= 1
            if entry.pins <= 0:
                self.settle(entry)

    def hold(self, entry: Entry, wire: Any, inner: list[Entry] | None) -> None:
        """Resolve `entry` to `wire`, a value naming the objects `inner` (which it pins)."""
        if inner:
            entry.inner = inner
            self.pin(inner)
        entry.resolve(READY, wire)

    def take(self, wire: Any) -> tuple[Any, list[Entry] | None]:
        """A worker's wire form, and the entries its value names: a worker wraps a value
        holding refs as `("n", wire, ids)`."""
        if wire[0] != "n":
            return wire, None
        found = [self.entries.get(oid) for oid in wire[2]]
        return wire[1], [e for e in found if e is not None]


class Waiter:
    """Sets `event` once `need` of the entries it watches resolve (or any fails, for get)."""

    __slots__ = ("need", "stop_on_error", "event", "then", "entries", "then_unblock")

    def __init__(self, need: int, stop_on_error: bool, then: Any = None):
        self.need = need
        self.stop_on_error = stop_on_error
        self.event = threading.Event() if then is None else None
        self.then = then
        self.entries: list[Entry] = []
        self.then_unblock: Any = None

    def watch(self, entries: list[Entry]) -> None:
        self.entries = entries
        for entry in entries:
            entry.on_ready(self)
            if self.need <= 0:
                return

    def __call__(self, entry: Entry) -> None:
        if self.need <= 0:
            return
        if entry.state == FAILED and self.stop_on_error:
            self.need = 0
        else:
            self.need -= 1
        if self.need <= 0:
            self.cancel()
            if self.event is not None:
                self.event.set()
            else:
                self.then()

    def cancel(self) -> None:
        """Stop watching (after firing, or when the waiter gave up)."""
        self.need = 0
        for entry in self.entries:
            entry.remove_callback(self)
