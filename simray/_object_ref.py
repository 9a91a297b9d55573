"""`ObjectRef`: a handle to a value that a task will produce or that `put` stored."""

from __future__ import annotations

from typing import Any, NoReturn

from simray import exceptions as exc

_NIL_BYTES = b"\xff" * 28
_LOW224 = (1 << 224) - 1


class ObjectRef:
    """A reference to an object; backends subclass it to carry their own state.

    Equality and hashing follow the id, as in Ray. Awaiting a ref (in an async task or actor)
    waits for its value.
    """

    __slots__ = ("_id", "_held")

    def __init__(self, object_id: int | bytes):
        self._held: Any = None
        if not isinstance(object_id, bytes):
            self._id = object_id
            return
        if len(object_id) != 28:
            raise ValueError(f"ID string needs to have length 28, got {len(object_id)}")
        # A ref rebuilt from an id (`ray.ObjectRef(ref.binary())`) names the same object and,
        # as in Ray, keeps it in scope: it holds the session's ref while the object is live.
        from simray import _session

        backend = _session.active()
        rebuild = getattr(backend, "rebuild_ref", None)  # sim: ids derived from the seed
        if rebuild is not None and object_id != _NIL_BYTES:
            self._id, self._held = rebuild(object_id)
            return
        self._id = int.from_bytes(object_id, "big")  # local: the id is the object's number
        find = getattr(backend, "find_ref", None)
        if find is not None and object_id != _NIL_BYTES:
            self._held = find(self._id)

    @classmethod
    def nil(cls) -> ObjectRef:
        return ObjectRef(b"\xff" * 28)

    @classmethod
    def from_binary(cls, binary: bytes) -> ObjectRef:
        return ObjectRef(binary)

    @classmethod
    def from_hex(cls, hex_id: str) -> ObjectRef:
        """Ray 2.60's `ObjectRef.from_hex` raises `NotImplementedError` (its `BaseID` stub);
        rebuild a ref with `ObjectRef(bytes.fromhex(hex_id))` instead."""
        raise NotImplementedError

    @classmethod
    def size(cls) -> int:
        return 28

    def is_nil(self) -> bool:
        return self.binary() == _NIL_BYTES

    def hex(self) -> str:
        """The id as 56 hex digits, Ray's length."""
        return self.binary().hex()

    def binary(self) -> bytes:
        """The id as 28 bytes (a rebuilt ref's are those of the object it holds, or the bytes
        it was built from)."""
        held = getattr(self, "_held", None)  # backends' subclasses leave it unset
        if held is not None:
            return held.binary()
        return (self._id & _LOW224).to_bytes(28, "big")

    def task_id(self) -> Any:
        """The TaskID of the task that made the object (Ray's first 24 bytes of the id)."""
        from simray._ray_ids import TaskID

        return TaskID(self.binary()[:24])

    def job_id(self) -> Any:
        """The JobID of the job whose task made the object."""
        from simray._ray_ids import JobID

        return JobID(self.binary()[20:24])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"ObjectRef({self.hex()})"

    def __await__(self) -> Any:
        from simray import _session

        return _session.backend().await_ref(self).__await__()

    def future(self) -> Any:
        """A `concurrent.futures.Future` resolved with the value (Ray's `ObjectRef.future`)."""
        from simray import _session

        return _session.backend().ref_future(self)


def refs_to_get(refs: Any) -> tuple[list[Any], bool]:
    """`get`'s argument as a list, and whether it was a single ref; Ray's ValueError (with its
    trailing space) for anything that is neither a ref nor a list."""
    if isinstance(refs, ObjectRef):
        return [refs], True
    if not isinstance(refs, list):
        raise ValueError(
            f"Invalid type of object refs, {type(refs)}, is given. 'object_refs' must "
            "either be an ObjectRef or a list of ObjectRefs. "
        )
    return refs, False


def not_a_ref(what: str, value: Any) -> NoReturn:
    """Raise for a value given to `get`/`wait`/`await` that is not a ref of this session."""
    if isinstance(value, ObjectRef):
        raise ValueError(
            f"{what}() got an ObjectRef of another session: refs do not outlive the session "
            "(init/shutdown) that made them"
        )
    raise TypeError(
        f"Attempting to call `{what}` on the value {value!r}, which is not an ray.ObjectRef."
    )


def as_raised(error: Any) -> BaseException:
    """What `get` raises for a stored error: a task's error as an instance of its cause's class
    too (Ray's dual inheritance), anything else as it is."""
    if isinstance(error, exc.RayTaskError):
        return error.as_instanceof_cause()
    return error
