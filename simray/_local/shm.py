"""POSIX shared-memory segments that carry large values between the processes of a session.

A segment holds one pickle and its out-of-band buffers: a header (the buffer count, then an
(offset, length) pair per part) and each part 64-byte aligned. Readers map it read-only, so a
NumPy array read from it is a zero-copy read-only view, as in Ray's object store.

The driver writes `put` values through `Arena`, which keeps each segment mapped: `get` in the
driver reads through that same mapping (no second set of page faults), and the segment of a freed
object that no worker ever saw and that no value still views is written again by a later `put`,
as Ray's object store reuses its memory (fresh pages cost a fault each, about as much as the copy).
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import threading
from collections.abc import Sequence
from typing import Any

try:
    import _posixshmem
except ImportError:  # pragma: no cover - not POSIX
    _posixshmem = None

_ALIGN = 64
_HEADER = struct.Struct("<Q")

_mapped: dict[str, memoryview] = {}  # segments this process has mapped (kept while it lives)


def layout(parts: Sequence[Any]) -> tuple[list[int], int]:
    """The (offset, length) table of `parts` in a segment, and the segment's size."""
    offset = _round_up(8 + 16 * len(parts))
    table: list[int] = []
    for part in parts:
        table += [offset, len(part)]
        offset = _round_up(offset + len(part))
    return table, max(offset, 1)


def _fill(mm: Any, parts: Sequence[Any], table: list[int]) -> None:
    _HEADER.pack_into(mm, 0, len(parts) - 1)
    struct.pack_into(f"<{len(table)}Q", mm, 8, *table)
    for i, part in enumerate(parts):
        start = table[2 * i]
        if len(part) > _PARALLEL_MIN and "numpy" in sys.modules:
            _parallel_copy(sys.modules["numpy"], mm, start, part)
        else:
            mm[start : start + len(part)] = part


_PARALLEL_MIN = 1 << 20  # Ray copies buffers larger than this with parallel_memcopy ...
_COPY_THREADS = 6  # ... on 6 threads (its MEMCOPY_THREADS)


def _parallel_copy(np: Any, mm: Any, start: int, part: Any) -> None:
    """Copy `part` into `mm` at `start` in 64-byte aligned chunks on several threads, as Ray's
    `parallel_memcopy` does: NumPy's copy releases the GIL, so the chunks are copied at once."""
    n = len(part)
    dst = np.frombuffer(mm, np.uint8, n, start)
    src = np.frombuffer(part, np.uint8)
    chunk = -(-n // _COPY_THREADS) + _ALIGN - 1
    chunk -= chunk % _ALIGN
    helpers = [
        threading.Thread(target=np.copyto, args=(dst[i : i + chunk], src[i : i + chunk]))
        for i in range(chunk, n, chunk)
    ]
    for helper in helpers:
        helper.start()
    np.copyto(dst[:chunk], src[:chunk])
    for helper in helpers:
        helper.join()
    del dst, src, helpers  # no view of the mapping may outlive the copy (see `_viewed`)


def _parts(wire: tuple[Any, ...]) -> list[Any]:
    return [wire[1], *(memoryview(b).cast("B") for b in wire[2])]


def _create(name: str, size: int) -> mmap.mmap:
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def write(wire: tuple[Any, ...], name: str, once: bool = False) -> tuple[Any, ...]:
    """Write an `("i", data, buffers)` wire form into a new segment `name`; its `("s", name,
    size)` form (`("t", ...)` with `once`: the reader unlinks it once it has mapped it)."""
    parts = _parts(wire)
    table, size = layout(parts)
    with _create(name, size) as mm:
        _fill(mm, parts, table)
    return ("t" if once else "s", name, size)


def spans(view: memoryview) -> list[memoryview]:
    """The parts of a mapped segment: the pickle, then its buffers."""
    (count,) = _HEADER.unpack_from(view, 0)
    table = struct.unpack_from(f"<{2 * (count + 1)}Q", view, 8)
    return [view[table[2 * i] : table[2 * i] + table[2 * i + 1]] for i in range(count + 1)]


def view(name: str) -> memoryview:
    """A read-only view of segment `name` (the arena's own mapping for the driver's segments)."""
    arena = Arena.current
    if arena is not None:
        mine = arena.view(name)
        if mine is not None:
            return mine
    found = _mapped.get(name)
    if found is None:
        fd = _posixshmem.shm_open("/" + name, os.O_RDONLY, 0)
        try:
            mm = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        found = _mapped[name] = memoryview(mm)
    return found


def view_once(name: str) -> memoryview:
    """Map a one-shot segment and unlink it: the mapping lives as long as what views it."""
    fd = _posixshmem.shm_open("/" + name, os.O_RDONLY, 0)
    try:
        mm = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
        unlink(name)
    return memoryview(mm)


def forget(name: str) -> None:
    """Drop this process's cached mapping of `name` (values viewing it keep it mapped)."""
    _mapped.pop(name, None)


def unlink(name: str) -> None:
    _mapped.pop(name, None)  # the mapping lives on while values still view it
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass


def unlink_prefix(prefix: str) -> None:
    """Remove every segment whose name starts with `prefix` (cleanup after a session)."""
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            unlink(name)


def _round_up(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _viewed(mm: mmap.mmap) -> bool:
    """Whether a value still views `mm`. mmap has no export count to read, but it refuses to
    resize while any buffer is exported; resizing a writable mapping to its own size is a
    no-op otherwise (the pages stay mapped)."""
    try:
        mm.resize(len(mm))
    except (BufferError, OSError):  # OSError: cannot tell, so never reuse it
        return True
    return False


class _Segment:
    __slots__ = ("name", "mm", "shared")

    def __init__(self, name: str, mm: mmap.mmap):
        self.name = name
        self.mm = mm
        self.shared = False  # a worker was sent its name: it may view it, never reuse it


class Arena:
    """The driver's `put` segments: kept mapped while their object lives, reused once freed."""

    current: Arena | None = None  # the driver's arena while a local session is up

    def __init__(self, keep_bytes: int, keep_count: int = 8):
        self.keep_bytes = keep_bytes  # at most this much freed memory is kept for reuse
        self.keep_count = keep_count
        self.live: dict[str, _Segment] = {}
        self.draining: list[_Segment] = []  # freed while a value still views them
        self.free: list[_Segment] = []
        self.lock = threading.RLock()  # a ref's __del__ may free a segment at any allocation

    def write(self, wire: tuple[Any, ...], new_name: Any) -> tuple[Any, ...]:
        """Write `("i", data, buffers)` into a freed segment that fits (at most twice the
        size), else into a new one named `new_name()`; its `("s", name, size)` form."""
        parts = _parts(wire)
        table, size = layout(parts)
        segment = self._take(size)
        if segment is None:
            name = new_name()
            segment = _Segment(name, _create(name, size))
        _fill(segment.mm, parts, table)
        with self.lock:
            self.live[segment.name] = segment
        return ("s", segment.name, size)

    def _take(self, size: int) -> _Segment | None:
        with self.lock:
            if self.draining:
                still = [s for s in self.draining if _viewed(s.mm)]
                if len(still) < len(self.draining):
                    self.free += [s for s in self.draining if s not in still]
                    self.draining = still
                    self._trim()
            fits = [s for s in self.free if size <= len(s.mm) <= 2 * size]
            if not fits:
                return None
            best = min(fits, key=lambda s: len(s.mm))
            self.free.remove(best)
            return best

    def view(self, name: str) -> memoryview | None:
        segment = self.live.get(name)
        if segment is None:
            return None
        return memoryview(segment.mm).toreadonly()

    def shared(self, name: str) -> None:
        """A worker is sent segment `name`: it will never be reused."""
        segment = self.live.get(name)
        if segment is not None:
            segment.shared = True

    def freed(self, name: str) -> bool:
        """The object in segment `name` is gone: keep the segment for reuse if no process can
        still view it, else unlink it. False if the segment is not the arena's."""
        with self.lock:
            segment = self.live.pop(name, None)
            if segment is None:
                return False
            if segment.shared:
                unlink(name)  # the mapping lives on (and is unmapped) with its last view
            elif _viewed(segment.mm):
                # `get(put(x))`: the ref dies before the value that views the segment
                self.draining.append(segment)
            else:
                self.free.append(segment)
            self._trim()
            return True

    def _trim(self) -> None:
        """Keep at most `keep_count` segments and `keep_bytes` bytes, dropping the oldest."""
        while len(self.draining) > self.keep_count:
            unlink(self.draining.pop(0).name)  # unmapped with its last view
        kept = sum(len(s.mm) for s in self.free)
        while self.free and (kept > self.keep_bytes or len(self.free) > self.keep_count):
            oldest = self.free.pop(0)
            kept -= len(oldest.mm)
            oldest.mm.close()
            unlink(oldest.name)

    def close(self) -> None:
        """End of the session: every segment is unlinked, mappings no value views are closed."""
        with self.lock:
            for segment in [*self.live.values(), *self.draining, *self.free]:
                try:
                    if not _viewed(segment.mm):
                        segment.mm.close()
                finally:
                    unlink(segment.name)
            self.live.clear()
            self.draining.clear()
            self.free.clear()
