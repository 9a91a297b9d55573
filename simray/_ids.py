"""Ids of one session: the integer counters that number tasks, actors, objects and placement
groups, and (on `sim`) Ray's byte ids derived from them and the seed.

Every backend that numbers its own objects (sim, local) takes the numbers from one
`IdAllocator`, so the numbering rule lives in one place. Internally an id is a small integer;
the sim backend turns it into Ray's bytes only when someone asks (`hex()`, `binary()`, a state
row, an error text), so numbering costs nothing per task. `SimIds` does that conversion with
Ray 2.60's layout (`src/ray/common/id.h`):

- JobID 4 bytes (`01000000`, the one job of a session);
- ActorID 16 = 12 unique bytes + JobID;
- TaskID 24 = 8 unique bytes + ActorID (a normal task: the job's nil actor, `ff`*12 + JobID;
  an actor's creation task: `ff`*8 + its ActorID; the driver: `ff`*8 + the nil actor);
- ObjectID 28 = TaskID + its index (4 bytes, little-endian): a task's returns are 1, 2, ...;
  a generator's yields 2, 3, ...; a put's index is 10^8 + n, n counting the putting attempt's
  puts above its returns (`PutCounts`), and its TaskID starts with the attempt's number
  instead of the first unique byte;
- PlacementGroupID 18 = 14 unique bytes + JobID.

The unique bytes are a keyed permutation of the counter (the key comes from the seed), so one
seed gives the same ids on every run, other seeds other ids, and an id read back from its bytes
(`ray.ObjectRef(binary)`) gives the counter it came from.
"""

from __future__ import annotations

from typing import Any

from simray import _digests as hashlib  # sha256, blake2b without loading OpenSSL

JOB_BYTES = bytes.fromhex("01000000")
NIL_ACTOR = b"\xff" * 12 + JOB_BYTES  # the job's nil ActorID: a normal task's actor part
DRIVER_UNIQUE = b"\xff" * 8
PUT_INDEX_BASE = 100_000_000  # Ray's put indexes start above any task's returns

# An object's number packs the fields its ObjectID is made of; a task's first return is the
# task's own number (so one-return tasks keep small integers).
_M56 = (1 << 56) - 1
_M32 = (1 << 32) - 1
INDEX_SHIFT = 56  # index - 1
ACTOR_SHIFT = 88  # the actor number of an actor call (0: a normal task or the driver)
ATTEMPT_SHIFT = 120  # a put's attempt byte
FOREIGN = 1 << 240  # an ObjectID the session did not make: the low 224 bits are its bytes
_LOW224 = (1 << 224) - 1
PG_READY_TASK = 1 << 55  # task numbers from here: the `ready()` task of placement group n


class IdAllocator:
    """Hands out increasing integer ids (separate sequences), the last one given in each."""

    __slots__ = ("task", "put", "pg")

    def __init__(self) -> None:
        self.task = 0  # the last id handed out
        self.put = 0  # the driver's puts in a sim session (the n of a put's index)
        self.pg = 0  # placement groups of a sim session

    def new_task(self) -> int:
        self.task += 1
        return self.task

    def new_put(self) -> int:
        self.put += 1
        return self.put

    def new_pg(self) -> int:
        self.pg += 1
        return self.pg


class PutCounts:
    """Ray's put indexes (`WorkerContext::GetNextPutIndex`): each attempt of a task or actor
    call counts its own puts, from its number of returns up (a task with one return puts
    10^8 + 2, 3, ...); the driver's count goes on (`IdAllocator.new_put`). Counts are kept only
    for units that put, and those no longer running are dropped now and then, so they cost
    nothing per task."""

    __slots__ = ("units", "sweep_at", "loops")

    def __init__(self) -> None:
        self.units: dict[int, list[Any]] = {}  # attempt's put number -> [unit, count so far]
        self.sweep_at = 1024
        self.loops: dict[int, int] = {}  # async actor -> its event loop's puts

    def next(self, attempt: int, unit: Any, returns: int) -> int:
        """The next put index, less 10^8, of a task or actor call's attempt (named by its
        put number with index 10^8, `object_number`) running as `unit`."""
        entry = self.units.get(attempt)
        if entry is None:
            if len(self.units) >= self.sweep_at:
                self.units = {k: e for k, e in self.units.items() if e[0].state == "running"}
                self.sweep_at = max(1024, 2 * len(self.units))
            entry = self.units[attempt] = [unit, returns]
        entry[1] += 1
        return entry[1]

    def on_loop(self, actor: int) -> int:
        """The next put index, less 10^8, of an async actor's event loop."""
        n = self.loops[actor] = self.loops.get(actor, 0) + 1
        return n


def object_number(task: int, index: int = 1, actor: int = 0, attempt: int = 0) -> int:
    """The number of return/yield `index` of task (or actor call) `task`, or of a put
    (`index` >= PUT_INDEX_BASE) made by that task's attempt `attempt`."""
    return task | ((index - 1) << INDEX_SHIFT) | (actor << ACTOR_SHIFT) | (attempt << ATTEMPT_SHIFT)


class _Permutation:
    """A keyed bijection of 56-bit integers (multiply, xor-shift and add rounds; each round
    has an inverse), so distinct counters get distinct, random-looking values."""

    __slots__ = ("k1", "k2", "m1", "m2", "i1", "i2")

    def __init__(self, key: bytes):
        words = [int.from_bytes(key[i : i + 7], "little") for i in range(0, 28, 7)]
        self.k1, self.k2 = words[0], words[1]
        self.m1, self.m2 = words[2] | 1, words[3] | 1  # odd: invertible modulo 2^56
        self.i1, self.i2 = pow(self.m1, -1, 1 << 56), pow(self.m2, -1, 1 << 56)

    def __call__(self, x: int) -> int:
        x = ((x ^ self.k1) * self.m1) & _M56
        x ^= x >> 29
        x = ((x + self.k2) * self.m2) & _M56
        return x ^ (x >> 31)

    def inverse(self, y: int) -> int:
        y ^= y >> 31  # a shift of at least half the width undoes itself
        y = ((y * self.i2) - self.k2) & _M56
        y ^= y >> 29
        return ((y * self.i1) & _M56) ^ self.k1


def _pad(value: int, salt: int, length: int) -> bytes:
    """`length` random-looking bytes that depend on `value` (the rest of an id's unique part)."""
    salted = salt.to_bytes(8, "little")
    return hashlib.blake2b(value.to_bytes(8, "little"), digest_size=length, salt=salted).digest()


class SimIds:
    """Ray's byte ids of one sim session, derived from its counters and its seed."""

    def __init__(self, seed: int):
        digest = hashlib.sha256(f"simray-ids-{seed}".encode()).digest()
        more = hashlib.sha256(digest).digest()
        self.seed = seed
        self._task = _Permutation(digest[:28])
        self._actor = _Permutation(more[:28])
        self._pg = _Permutation(hashlib.sha256(more).digest()[:28])
        self._salt = int.from_bytes(digest[28:], "little")
        self.creation_tasks: dict[int, int] = {}  # an actor's creation task -> the actor
        self.creation_of_actor: dict[int, int] = {}

    def add_creation(self, task: int, actor: int) -> None:
        """Task number `task` creates actor `actor`: its TaskID is `ff`*8 + the ActorID."""
        self.creation_tasks[task] = actor
        self.creation_of_actor[actor] = task

    # -- actors and placement groups -------------------------------------------------------
    def actor_binary(self, actor: int) -> bytes:
        v = self._actor(actor)
        return _pad(v, self._salt + 1, 5) + v.to_bytes(7, "big") + JOB_BYTES

    def actor_of(self, binary: bytes) -> int | None:
        """The actor number an ActorID's bytes came from, or None if this session made none."""
        if len(binary) != 16 or binary[12:] != JOB_BYTES:
            return None
        actor = self._actor.inverse(int.from_bytes(binary[5:12], "big"))
        return actor if actor and self.actor_binary(actor) == binary else None

    def pg_binary(self, pg: int) -> bytes:
        v = self._pg(pg)
        return _pad(v, self._salt + 2, 7) + v.to_bytes(7, "big") + JOB_BYTES

    # -- tasks ---------------------------------------------------------------------------------
    def _unique(self, task: int) -> bytes:
        if task == 0:
            return DRIVER_UNIQUE
        v = self._task(task)
        return _pad(v, self._salt, 1) + v.to_bytes(7, "big")

    def task_binary(self, task: int, actor: int = 0) -> bytes:
        """The TaskID of task (or actor call of `actor`) number `task`; 0 is the driver."""
        creation = self.creation_tasks.get(task) if not actor else None
        if creation is not None:
            return DRIVER_UNIQUE + self.actor_binary(creation)
        return self._unique(task) + (self.actor_binary(actor) if actor else NIL_ACTOR)

    def task_hex(self, task: int, actor: int = 0) -> str:
        return self.task_binary(task, actor).hex()

    # -- objects -------------------------------------------------------------------------------
    def object_binary(self, number: int) -> bytes:
        if number & FOREIGN:
            return (number & _LOW224).to_bytes(28, "big")
        index = ((number >> INDEX_SHIFT) & _M32) + 1
        task = self.task_binary(number & _M56, (number >> ACTOR_SHIFT) & _M32)
        if index > PUT_INDEX_BASE:
            task = bytes(((number >> ATTEMPT_SHIFT) & 0xFF,)) + task[1:]
        return task + index.to_bytes(4, "little")

    def object_number(self, binary: bytes) -> int:
        """The number of the object whose ObjectID is `binary` (28 bytes); an id this session
        did not make is kept as it is (FOREIGN), naming no object."""
        foreign = FOREIGN | int.from_bytes(binary, "big")
        index = int.from_bytes(binary[24:], "little")
        if not 1 <= index <= _M32:
            return foreign
        tail = binary[8:24]
        actor = 0 if tail == NIL_ACTOR else self.actor_of(tail)
        if actor is None:
            return foreign
        put = index > PUT_INDEX_BASE
        attempt = binary[0] if put else 0
        if binary[1:8] != DRIVER_UNIQUE[1:]:
            task = self._task.inverse(int.from_bytes(binary[1:8], "big"))
        elif actor:  # an actor's creation task: numbered as a task, its id names the actor
            task, actor = self.creation_of_actor.get(actor, 0), 0
            if not task:
                return foreign
        else:
            task = 0  # the driver
        number = object_number(task, index, actor, attempt)
        return number if self.object_binary(number) == binary else foreign


# The last sim sessions' ids, by the session's epoch: a ref keeps its session's epoch, so it
# prints the same id after its session ended; `current` is the running (or last) session's.
_by_epoch: dict[int, SimIds] = {}
_KEPT_SESSIONS = 16
current = SimIds(0)


def activate(epoch: int, ids: SimIds) -> None:
    """Make `ids` the ids of the session numbered `epoch` (and the current one)."""
    global current
    _by_epoch[epoch] = current = ids
    while len(_by_epoch) > _KEPT_SESSIONS:
        del _by_epoch[next(iter(_by_epoch))]


def of_epoch(epoch: int) -> SimIds:
    return _by_epoch.get(epoch, current)
