"""Generator tasks and calls on the local backend (`num_returns="streaming"` or `"dynamic"`).

The worker runs the generator and sends each yielded value to the driver as it is produced (a
"yield" message, ahead of the task's end on the same connection); the driver stores it as a new
object and appends its ref to the stream the caller's `ObjectRefGenerator` reads. With
`_generator_backpressure_num_objects=N` the worker asks for credit after each item and the driver
answers once fewer than N refs are unread. A "dynamic" task's refs become its one value, a
`DynamicObjectRefGenerator`, when it ends.
"""

from __future__ import annotations

import time
from typing import Any

from simray._generator import ObjectRefGenerator, nil_ref, split_ready
from simray._local.ids import object_id
from simray._local.objects import FAILED, PENDING, READY, Entry, Waiter


class LocalStream:
    """The refs a generator task or call has yielded, how far the consumer read, who waits."""

    __slots__ = (
        "backend", "task", "pushed", "mode", "items", "read", "done", "backpressure", "credit",
        "signal",
    )  # fmt: skip

    def __init__(self, backend: Any, task: int, mode: str, backpressure: int | None):
        self.backend = backend
        self.task = task  # the generator task's (or call's) TaskID: its yields'
        self.pushed = 0  # values pushed, over all its attempts (so a retry's ids are new)
        self.mode = mode
        self.items: list[Any] = []
        self.read = 0
        self.done = False
        self.backpressure = backpressure if backpressure and backpressure > 0 else None
        self.credit: list[tuple[Any, int]] = []  # (worker, request) waiting for the consumer
        self.signal = Entry(0)  # resolves at the stream's next change

    def unread(self) -> int:
        return len(self.items) - self.read

    def changed(self) -> None:
        old, self.signal = self.signal, Entry(0)
        old.resolve(READY, None)

    def push(self, wire: Any) -> None:
        """A value the generator yielded (under the backend's lock)."""
        self.pushed += 1
        ref = self.backend.new_ref(object_id(self.task, self.pushed + 1))  # yields: 2, 3, ...
        table = self.backend.table
        table.hold(ref.entry, *table.take(wire))
        self.items.append(ref)
        self.changed()

    def end(self) -> None:
        self.done = True
        self.give_credit(force=True)
        self.changed()

    def wants_credit(self) -> bool:
        return (
            not self.done and self.backpressure is not None and self.unread() >= self.backpressure
        )

    def give_credit(self, force: bool = False) -> None:
        if self.credit and (force or not self.wants_credit()):
            waiting, self.credit = self.credit, []
            for proc, req in waiting:
                self.backend.reply(proc, req, True, None)


class LocalObjectRefGenerator(ObjectRefGenerator):
    """`ObjectRefGenerator` over a `LocalStream`: the I/O thread appends, the caller reads."""

    _stream: LocalStream

    def _state(self) -> int:
        return self._generator_ref.entry.state

    def is_finished(self) -> bool:
        stream = self._stream
        with self._backend.lock:
            if not stream.done or stream.unread() > 0:
                return False
            return self._generator_task_raised or self._state() == READY

    def _ready_now(self) -> bool:
        return self._stream.unread() > 0 or self._stream.done

    def _watch(self) -> Entry:
        return self._stream.signal

    def _take(self) -> Any:
        stream = self._stream
        with self._backend.lock:
            if stream.unread() > 0:
                ref = stream.items[stream.read]
                stream.items[stream.read] = None  # the consumer holds it now
                stream.read += 1
                stream.give_credit()
                return ref
            if self._generator_task_raised or self._state() != FAILED:
                raise StopIteration
            self._generator_task_raised = True
            return self._generator_ref

    def _next_sync(self, timeout_s: float | None = None) -> Any:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        lock = self._backend.lock
        while True:
            with lock:
                if self._ready_now():
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return nil_ref()
                waiter = Waiter(1, False)
                waiter.watch([self._stream.signal])
            waiter.event.wait(remaining)  # type: ignore[union-attr]
            with lock:
                waiter.cancel()
        return self._take()

    async def _next_async(self, timeout_s: float | None = None) -> Any:
        while True:
            with self._backend.lock:
                if self._ready_now():
                    break
                signal = self._stream.signal
            await await_entry(self._backend, signal)
        try:
            return self._take()
        except StopIteration:
            raise StopAsyncIteration from None


LocalObjectRefGenerator.__name__ = LocalObjectRefGenerator.__qualname__ = "ObjectRefGenerator"


async def await_entry(backend: Any, entry: Entry) -> None:
    """Wait in the running event loop until `entry` resolves (callback from the I/O thread)."""
    import asyncio

    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def resolved(_entry: Any) -> None:
        loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))

    with backend.lock:
        entry.on_ready(resolved)
    await future


def wait_mixed(
    backend: Any, items: list[Any], num_returns: int, timeout: float | None
) -> tuple[list[Any], list[Any]]:
    """`ray.wait` over refs and generators: a generator is ready when `next` would not block.
    The first ready ones in input order, as for refs."""
    deadline = None if timeout is None else time.monotonic() + timeout

    def is_ready(item: Any) -> bool:
        if isinstance(item, ObjectRefGenerator):
            return item._ready_now()
        return item.entry.state != PENDING

    lock = backend.lock
    while True:
        with lock:
            ready_count = sum(1 for item in items if is_ready(item))
            remaining = None if deadline is None else deadline - time.monotonic()
            if ready_count >= num_returns or (remaining is not None and remaining <= 0):
                return split_ready(items, num_returns, is_ready)
            watch = [
                item._stream.signal if isinstance(item, ObjectRefGenerator) else item.entry
                for item in items
                if not is_ready(item)
            ]
            waiter = Waiter(1, False)
            waiter.watch(watch)
        waiter.event.wait(remaining)  # type: ignore[union-attr]
        with lock:
            waiter.cancel()
