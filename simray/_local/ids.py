"""Object ids on the local backend, in Ray 2.60's layout: an ObjectID is the 24-byte TaskID of
the task that made it and a 4-byte little-endian index (`src/ray/common/id.h`).

A local TaskID is the task's (or actor call's) number in 24 big-endian bytes; the driver's is
Ray's (`ff`*20 + the JobID). A task's returns are indexes 1..num_returns, a generator's yields
2, 3, ...; a put is 10^8 + n, n counting the putting execution's puts above its returns (the
driver's count goes on through the session), and its TaskID's first byte is that execution's
attempt number, as Ray's `TaskID::ForExecutionAttempt` makes it. An async actor's puts, its
constructor's too, all name one TaskID (Ray's event loop's, not the call's; here the creation
task's) and count on through its life. An object's number is its ObjectID read as a
big-endian integer, so `ref.binary()` and `ObjectRef(binary)` need no table.
"""

from __future__ import annotations

from simray._ids import PUT_INDEX_BASE

DRIVER_TASK = int("ff" * 20 + "01000000", 16)  # Ray's TaskID of the driver
_ATTEMPT_SHIFT = 184  # the first of a TaskID's 24 bytes
_BELOW_ATTEMPT = (1 << _ATTEMPT_SHIFT) - 1


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
