"""Objects of the simulated object store: refs with their state, and copy-on-crossing values.

Values cross task boundaries as copies, as in Ray: anything but an immutable scalar is pickled
(with cloudpickle) when it is stored and unpickled on every read. Refs inside a value are kept
by identity, so a ref passed inside a list still names the same object.
"""

from __future__ import annotations

import functools
import io
from collections import ChainMap
from typing import Any

try:  # the C unpickler, which pickle.Unpickler is; pickle.py itself costs ~3 ms of start-up
    from _pickle import Unpickler
except ImportError:  # pragma: no cover - an interpreter without pickle's C accelerator
    from pickle import Unpickler

from simray import _ids
from simray._actor import ActorHandle
from simray._object_ref import ObjectRef
from simray.util.placement_group import PlacementGroup

PENDING, READY, FAILED = 0, 1, 2
# Copied values keep these by identity: a ref or an actor handle names the same thing anywhere.
_BY_IDENTITY = (ObjectRef, ActorHandle, PlacementGroup)
ATOMIC = _ATOMIC = frozenset({int, float, str, bytes, bool, type(None), complex})


_session_epoch = 0


def new_session_epoch() -> int:
    """Start numbering a new session's refs apart from those of earlier sessions."""
    global _session_epoch
    _session_epoch += 1
    return _session_epoch


class SimRef(ObjectRef):
    """An ObjectRef of the sim backend; the ref is the store entry (freed with its last ref)."""

    __slots__ = ("state", "stored", "callbacks", "task", "lineage", "owner", "epoch", "__weakref__")

    # `SimRef()` only allocates, with object's `__init__` (not a Python one), the cheapest way
    # to make an instance: `new_ref` sets every field, once per task return or put.
    __init__ = object.__init__

    stored: Any  # packed value, or the exception when FAILED
    callbacks: Any  # None, one callable (the common case: one waiter, no list), or a list
    task: Any  # the task that makes it (None for put), for cancel and explanations
    lineage: Any  # the finished task that can make it again, if it may be lost
    owner: Any  # the node of the task that made it; None: the driver made it
    epoch: int  # which session made it (the state API lists only its own)

    def binary(self) -> bytes:
        """Ray's ObjectID bytes, derived from the number and the session's seed."""
        return _ids.of_epoch(self.epoch).object_binary(self._id)

    def hex(self) -> str:
        return self.binary().hex()

    def resolve(self, state: int, stored: Any) -> None:
        """Set the value or error once and run everyone waiting for it."""
        self.state = state
        self.stored = stored
        self.task = None
        callbacks = self.callbacks
        if callbacks is not None:
            self.callbacks = None
            if type(callbacks) is list:
                for cb in callbacks:
                    cb(self)
            else:
                callbacks(self)

    def on_ready(self, cb: Any) -> None:
        """Call `cb(self)` when resolved (now, if already resolved)."""
        if self.state != PENDING:
            cb(self)
            return
        callbacks = self.callbacks
        if callbacks is None:
            self.callbacks = cb
        elif type(callbacks) is list:
            callbacks.append(cb)
        else:
            self.callbacks = [callbacks, cb]

    def __reduce__(self) -> Any:
        raise TypeError(
            "an ObjectRef of the sim backend cannot be pickled outside a simray session; "
            "pass it to tasks or put() it instead"
        )


def new_ref(object_id: int, task: Any = None) -> SimRef:
    """A pending ref of object `object_id`, made by `task` (None for put), of this session."""
    ref = SimRef()
    ref._id = object_id
    ref.state = PENDING
    ref.stored = None
    ref.callbacks = None
    ref.task = task
    ref.lineage = None
    ref.owner = None
    ref.epoch = _session_epoch
    return ref


def owner_node(unit: Any) -> Any:
    """The node a unit runs on (a task, an actor call or an actor's loop); None for the driver."""
    if unit is None:
        return None
    node = getattr(unit, "node", None)
    if node is None and hasattr(unit, "actor"):
        node = unit.actor.node
    return node


class Packed:
    """A pickled value and the refs it contains."""

    __slots__ = ("data", "refs")

    def __init__(self, data: bytes, refs: list[ObjectRef]):
        self.data = data
        self.refs = refs


# Serializers registered with `ray.util.register_serializer`, per simulated process (as Ray's
# live in each worker process's pickler): process key -> {class: reducer}. None is the driver.
_REDUCERS: dict[Any, dict[type, Any]] = {}
_process_key: Any = lambda: None  # noqa: E731  (the sim backend installs its own)


def set_process_key(fn: Any) -> None:
    """Install how to name the process the current unit runs in (the driver is None)."""
    global _process_key
    _process_key = fn
    for key in [k for k in _REDUCERS if k is not None]:
        del _REDUCERS[key]  # a new session: its workers start without registrations


def register_reducer(cls: type, reducer: Any) -> None:
    """Pickle instances of `cls` with `reducer` in the current simulated process."""
    _REDUCERS.setdefault(_process_key(), {})[cls] = reducer


def unregister_reducer(cls: type) -> None:
    key = _process_key()
    table = _REDUCERS.get(key)
    if table is not None:
        table.pop(cls, None)
        if not table:
            del _REDUCERS[key]


@functools.cache
def _ref_keeping_pickler() -> type:
    """A cloudpickle Pickler that keeps refs by identity; cloudpickle loads on the first copy."""
    import pickle

    import cloudpickle

    class RefKeepingPickler(cloudpickle.Pickler):
        def __init__(self, file: io.BytesIO, refs: list[ObjectRef]):
            table = _REDUCERS.get(_process_key()) if _REDUCERS else None
            if table:  # read by the C pickler's __init__, so set before it
                self.dispatch_table = ChainMap(table, cloudpickle.Pickler.dispatch_table)
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self._refs = refs

        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, _BY_IDENTITY):
                self._refs.append(obj)
                return len(self._refs) - 1
            return None

    return RefKeepingPickler


class _RefKeepingUnpickler(Unpickler):
    def __init__(self, file: io.BytesIO, refs: list[ObjectRef]):
        super().__init__(file)
        self._refs = refs

    def persistent_load(self, pid: Any) -> Any:
        return self._refs[pid]


def is_atomic(value: Any) -> bool:
    """Immutable scalars (and tuples of them) need no copy."""
    t = type(value)
    if t in _ATOMIC:
        return True
    return t is tuple and all(type(v) in _ATOMIC for v in value)


def pack(value: Any) -> Any:
    """Store form of `value`: itself if immutable, else a pickled copy. Raises on unpicklable."""
    if type(value) in _ATOMIC or is_atomic(value):
        return value
    buf = io.BytesIO()
    refs: list[ObjectRef] = []
    _ref_keeping_pickler()(buf, refs).dump(value)
    return Packed(buf.getvalue(), refs)


def unpack(stored: Any) -> Any:
    """A fresh copy of a stored value."""
    if type(stored) is not Packed:
        return stored
    return _RefKeepingUnpickler(io.BytesIO(stored.data), stored.refs).load()


# Programs print type(ref).__name__; in Ray it is "ObjectRef".
SimRef.__name__ = SimRef.__qualname__ = "ObjectRef"
