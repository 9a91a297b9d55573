"""Ray's ID classes (`NodeID`, `JobID`, `TaskID`, `ActorID`, `PlacementGroupID`, `WorkerID`, ...).

Each is a fixed number of bytes with Ray's sizes, `hex()`, `binary()`, `from_hex`, `from_binary`,
`nil()`, `is_nil()`, equality within one class and hashing. On `sim` the values are derived from
the session's seed and counters (`simray._ids`), so they are the same on every run of a seed.
"""

from __future__ import annotations

from typing import Any


class BaseID:
    """Bytes of one fixed size; equal only to an ID of the same class and value."""

    __slots__ = ("_bytes",)
    SIZE = 28

    def __init__(self, id: bytes):
        if not isinstance(id, bytes):
            raise TypeError(f"expected bytes, {type(id).__name__} found")
        if len(id) != self.SIZE:
            raise ValueError(f"ID string needs to have length {self.SIZE}, got {len(id)}")
        self._bytes = id

    @classmethod
    def size(cls) -> int:
        return cls.SIZE

    @classmethod
    def from_binary(cls, id_bytes: bytes) -> Any:
        return cls(id_bytes)

    @classmethod
    def from_hex(cls, hex_id: str | bytes) -> Any:
        """Ray logs an error and returns the nil ID for a hex string of the wrong length or
        with a non-hex character; so does simray (without the log line)."""
        if isinstance(hex_id, bytes):
            hex_id = hex_id.decode()
        if not isinstance(hex_id, str):
            raise TypeError(f"expected str, {type(hex_id).__name__} found")
        try:
            raw = bytes.fromhex(hex_id)
        except ValueError:
            return cls.nil()
        if len(raw) != cls.SIZE or len(hex_id) != 2 * cls.SIZE:
            return cls.nil()
        return cls(raw)

    @classmethod
    def nil(cls) -> Any:
        return cls(b"\xff" * cls.SIZE)

    @classmethod
    def from_random(cls) -> Any:
        import os

        return cls(os.urandom(cls.SIZE))

    def is_nil(self) -> bool:
        return self._bytes == b"\xff" * self.SIZE

    def binary(self) -> bytes:
        return self._bytes

    def hex(self) -> str:
        return self._bytes.hex()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._bytes == self._bytes  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        return type(self), (self._bytes,)


class UniqueID(BaseID):
    __slots__ = ()


class NodeID(BaseID):
    __slots__ = ()


class WorkerID(BaseID):
    __slots__ = ()


class FunctionID(BaseID):
    __slots__ = ()


class ActorClassID(BaseID):
    __slots__ = ()


class JobID(BaseID):
    __slots__ = ()
    SIZE = 4

    @classmethod
    def from_int(cls, value: int) -> JobID:
        return cls(value.to_bytes(cls.SIZE, "little"))

    def int(self) -> int:
        return int.from_bytes(self._bytes, "little")


class ActorID(BaseID):
    __slots__ = ()
    SIZE = 16

    @property
    def job_id(self) -> JobID:
        return JobID(self._bytes[-4:])


class TaskID(BaseID):
    __slots__ = ()
    SIZE = 24

    def actor_id(self) -> ActorID:
        return ActorID(self._bytes[-16:])

    def job_id(self) -> JobID:
        return JobID(self._bytes[-4:])


class PlacementGroupID(BaseID):
    __slots__ = ()
    SIZE = 18


JOB_ID_HEX = "01000000"  # the one job of a simray session, as Ray numbers its first driver


def worker_id_hex(key: str, seed: int = 0) -> str:
    """A WorkerID hex derived from the session's seed and a stable key (the unit that runs, on
    `sim`): the same on every run of one seed."""
    from simray import _digests as hashlib  # here: `import simray` reaches this module
    # (placement groups) long before a session names a worker

    text = f"simray-worker-{key}" if seed == 0 else f"simray-worker-{seed}-{key}"
    return hashlib.sha256(text.encode()).hexdigest()[: 2 * WorkerID.SIZE]


def __getattr__(name: str) -> Any:  # ObjectID is ObjectRef in Ray
    if name == "ObjectID":
        from simray._object_ref import ObjectRef

        return ObjectRef
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
