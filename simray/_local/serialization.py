"""How values cross processes on the local backend: cloudpickle, with large values in shm.

A value is stored as a *wire* form: `("v", x)` for an immutable scalar, `("i", data, buffers)`
for a pickle (protocol 5, out-of-band buffers kept apart so NumPy arrays are not copied), or
`("s", name, size)` for a POSIX shared-memory segment holding the same pickle and buffers
(`("t", name, size)` for a one-shot segment: a large inline argument, unlinked by the process that
maps it; `shm` writes and maps segments). NumPy arrays read from a segment are read-only views
of it, as in Ray's object store.
Refs, actor handles and placement groups inside a value travel as tokens that each side turns
into its own objects (`persistent_id`), so a ref names the same object in every process.
"""

from __future__ import annotations

import io
import pickle
import threading
import types
from collections import ChainMap
from collections.abc import Callable
from typing import Any

import cloudpickle
from cloudpickle import cloudpickle as cloudpickle_module

from simray._actor import ActorHandle
from simray._local import shm
from simray._object_ref import ObjectRef
from simray.util.placement_group import PlacementGroup

SHM_THRESHOLD = 1 << 20  # values at least this large go through shared memory
_found = threading.local()  # `items`: what tokens a value being packed named (see `with_refs`)


def with_refs(pack: Callable[[], Any]) -> tuple[Any, list[Any]]:
    """`pack()`, and what `noted` was told of the refs inside the value it packed (in this
    thread): each process's `token` notes the refs it writes."""
    outer = getattr(_found, "items", None)
    _found.items = found = []
    try:
        return pack(), found
    finally:
        _found.items = outer


def with_actors(pack: Callable[[], Any]) -> tuple[Any, list[Any]]:
    """`pack()`, and the actors whose handles it wrote (see `noted_actor`), in this thread."""
    outer = getattr(_found, "actors", None)
    _found.actors = found = []
    try:
        return pack(), found
    finally:
        _found.actors = outer


def noted_actor(actor: Any) -> bool:
    """Note an actor handle written for the `with_actors` running here; False if none runs."""
    found = getattr(_found, "actors", None)
    if found is None:
        return False
    found.append(actor)
    return True


def noted(item: Any) -> bool:
    """Note `item` for the `with_refs` running in this thread; False if none runs."""
    found = getattr(_found, "items", None)
    if found is None:
        return False
    found.append(item)
    return True


ATOMIC = frozenset({int, float, str, bytes, bool, type(None), complex})


def _code_reduce(code: types.CodeType) -> Any:
    """cloudpickle's reduction of a code object, keeping its file name (cloudpickle writes
    "<dynamic-code>"), so a worker's tracebacks name the user's file and show its lines."""
    ctor, args = cloudpickle_module._code_reduce(code)
    args = tuple(code.co_filename if a == "<dynamic-code>" else a for a in args)
    return ctor, args


# `ray.util.register_serializer` in this process (the driver or one worker), as Ray keeps it.
CUSTOM_REDUCERS: dict[type, Callable[[Any], Any]] = {}


class _Pickler(cloudpickle.Pickler):
    dispatch_table = ChainMap(
        CUSTOM_REDUCERS, {types.CodeType: _code_reduce}, cloudpickle.Pickler.dispatch_table
    )

    def __init__(self, file: io.BytesIO, buffers: list[Any], token: Callable[[Any], Any]):
        super().__init__(file, protocol=5, buffer_callback=buffers.append)
        self._token = token

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, (ObjectRef, ActorHandle, PlacementGroup)):
            return self._token(obj)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, buffers: Any, load: Callable[[Any], Any]):
        super().__init__(file, buffers=buffers)
        self._load = load

    def persistent_load(self, pid: Any) -> Any:
        return self._load(pid)


def dumps(value: Any, token: Callable[[Any], Any]) -> tuple[bytes, list[Any]]:
    """Pickle `value`; (pickle bytes, out-of-band buffers). Raises on unpicklable values."""
    buf = io.BytesIO()
    buffers: list[Any] = []
    _Pickler(buf, buffers, token).dump(value)
    return buf.getvalue(), buffers


def dumps_code(obj: Any, token: Callable[[Any], Any]) -> bytes:
    """A function or class for another process (file names kept, see `_code_reduce`). Actor
    handles, refs and placement groups its closure or globals hold travel as tokens, as in
    values: a handle pickles to its actor's id and reconnects in the process that loads it."""
    buf = io.BytesIO()
    _Pickler(buf, [], token).dump(obj)
    return buf.getvalue()


def loads_code(blob: bytes, load: Callable[[Any], Any]) -> Any:
    """The function or class `dumps_code` wrote, its tokens turned into this process's objects."""
    return _Unpickler(io.BytesIO(blob), (), load).load()


def _no_refs(obj: Any) -> Any:
    return None


def small_atomic(value: Any) -> bool:
    """An immutable scalar that travels as itself (large bytes and str are pickled, so that
    they can move through shared memory)."""
    t = type(value)
    return t in ATOMIC and not (t in (bytes, str) and len(value) >= SHM_THRESHOLD)


def pack(value: Any, token: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The in-memory wire form of `value` (never shm: see `to_shm` for sending)."""
    if small_atomic(value):
        return ("v", value)
    data, buffers = dumps(value, token)
    return ("i", data, [b.raw().tobytes() for b in buffers])  # a copy, as put makes one


def pack_large(value: Any, token: Callable[[Any], Any], store: Callable[[Any], Any]) -> Any:
    """The wire form of `value`, a large one written once, straight from its out-of-band
    buffers (a NumPy array's memory), by `store` into shared memory: no copy on the way."""
    if small_atomic(value):
        return ("v", value)
    data, buffers = dumps(value, token)
    raws = [b.raw() for b in buffers]
    if len(data) + sum(r.nbytes for r in raws) >= SHM_THRESHOLD:
        return store(("i", data, raws))
    return ("i", data, [r.tobytes() for r in raws])


def pack_for_put(value: Any, token: Callable[[Any], Any], store: Callable[[Any], Any]) -> Any:
    """`put`'s stored form in the driver: large bytes as themselves (immutable: no copy
    needed), other values as `pack_large` makes them."""
    if type(value) is bytes and len(value) >= SHM_THRESHOLD:
        return ("v", value)
    return pack_large(value, token, store)


def shareable(wire: tuple[Any, ...]) -> tuple[Any, ...]:
    """An in-memory form that another process can map: large bytes pickled (see to_shm)."""
    if wire[0] == "v" and type(wire[1]) is bytes and len(wire[1]) >= SHM_THRESHOLD:
        return ("i", dumps(wire[1], _no_refs)[0], [])
    return wire


def size_of(wire: tuple[Any, ...]) -> int:
    if wire[0] == "i":
        return len(wire[1]) + sum(len(b) for b in wire[2])
    if wire[0] in ("s", "t"):
        return wire[2]
    return 0


def unpack(wire: tuple[Any, ...], load: Callable[[Any], Any]) -> Any:
    """A fresh copy of the value (a read-only view for NumPy arrays from shm or buffers)."""
    kind = wire[0]
    if kind == "v":
        return wire[1]
    if kind == "i":
        buffers = [memoryview(b).toreadonly() for b in wire[2]]
        return _Unpickler(io.BytesIO(wire[1]), buffers, load).load()
    parts = shm.spans(shm.view(wire[1]) if kind == "s" else shm.view_once(wire[1]))
    return _Unpickler(io.BytesIO(parts[0]), parts[1:], load).load()
