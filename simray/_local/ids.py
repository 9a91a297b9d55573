"""Ids on the local backend, in Ray 2.60's layout (`src/ray/common/id.h`), from the session's
counters: an ActorID is 12 unique bytes (here the actor's number) + the JobID (`01000000`); a
TaskID 8 unique bytes (the task's or call's number) + an ActorID (a call's actor's, the nil
actor `ff`*12 + JobID for a normal task); an actor's creation task is `ff`*8 + its ActorID and
the driver `ff`*20 + JobID. An ObjectID is the 24-byte TaskID of the task that made it and a
4-byte little-endian index. A task's returns are indexes 1..num_returns, a generator's yields
2, 3, ...; a put is 10^8 + n, n counting the putting execution's puts above its returns (the
driver's count goes on through the session), and its TaskID's first byte is that execution's
attempt number, as Ray's `TaskID::ForExecutionAttempt` makes it. An async actor's puts, its
constructor's too, all name one TaskID (Ray's event loop's, not the call's; here the creation
task's) and count on through its life. An object's number is its ObjectID read as a
big-endian integer, so `ref.binary()` and `ObjectRef(binary)` need no table.
"""

from __future__ import annotations

from simray._ids import PUT_INDEX_BASE

_JOB = 0x01000000  # the session's one JobID, as an integer
_NIL_ACTOR = ((1 << 96) - 1) << 32 | _JOB
_CREATION = ((1 << 64) - 1) << 128  # a creation task's unique bytes: ff*8
DRIVER_TASK = _CREATION | _NIL_ACTOR  # Ray's TaskID of the driver
_ATTEMPT_SHIFT = 184  # the first of a TaskID's 24 bytes
_BELOW_ATTEMPT = (1 << _ATTEMPT_SHIFT) - 1


def actor_bits(actor: int) -> int:
    """The ActorID of actor number `actor`, as an integer."""
    return (actor << 32) | _JOB


def actor_hex(actor: int) -> str:
    return f"{actor_bits(actor):032x}"


def task_bits(task: int, actor: int = 0) -> int:
    """The TaskID of task (or actor call of `actor`) number `task`, as an integer."""
    return (task << 128) | (actor_bits(actor) if actor else _NIL_ACTOR)


def creation_bits(actor: int) -> int:
    """The TaskID of actor `actor`'s creation task, as an integer."""
    return _CREATION | actor_bits(actor)


def object_id(task: int, index: int) -> int:
    """The number of object `index` of the task whose TaskID, as an integer, is `task`."""
    return (task << 32) | int.from_bytes(index.to_bytes(4, "little"), "big")


def put_task(task: int, attempt: int) -> int:
    """The TaskID a put names: the putting task's, its first byte the attempt number."""
    return (task & _BELOW_ATTEMPT) | ((attempt & 0xFF) << _ATTEMPT_SHIFT)


def put_id(task: int, attempt: int, n: int) -> int:
    """The number of put `n` (counted above the returns) of `task`'s attempt `attempt`."""
    return object_id(put_task(task, attempt), PUT_INDEX_BASE + n)


def driver_put_id(n: int) -> int:
    """The number of the driver's `n`th put of the session."""
    return put_id(DRIVER_TASK, 0, n)
