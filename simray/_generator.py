"""Streaming generators: `ObjectRefGenerator` (what a generator task's `.remote()` returns on `sim`)
and `DynamicObjectRefGenerator` (the value of a `num_returns="dynamic"` task).

The producing task appends one ready ref per `yield` to a `Stream` at that virtual instant; the
consumer reads them in order with `next`, `for` or `async for`. When the task raised, the stream
ends with the task's own ref (the `completed()` ref), whose `get` raises the error, as in Ray.
With `_generator_backpressure_num_objects=N` the producer waits while N refs are unread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any


class Stream:
    """The refs a generator task has yielded, how far the consumer read, and who waits."""

    __slots__ = ("items", "read", "done", "backpressure", "producer", "_signal", "_new_ref")

    def __init__(self, new_ref: Any, backpressure: int | None):
        self.items: list[Any] = []
        self.read = 0
        self.done = False
        self.backpressure = backpressure if backpressure and backpressure > 0 else None
        self.producer: Any = None  # the task blocked on backpressure, if any
        self._new_ref = new_ref  # makes an internal (unnumbered) pending ref
        self._signal = new_ref()

    def signal(self) -> Any:
        """A ref that resolves at the stream's next change (an item, or the end)."""
        return self._signal

    def changed(self) -> None:
        old, self._signal = self._signal, self._new_ref()
        old.resolve(1, None)

    def unread(self) -> int:
        return len(self.items) - self.read


class ObjectRefGenerator:
    """The refs of a streaming generator task, in yield order (`next`, `for`, `async for`)."""

    def __init__(self, stream: Stream, completed_ref: Any, backend: Any):
        self._stream = stream
        self._generator_ref = completed_ref
        self._backend = backend
        self._generator_task_raised = False

    def __iter__(self) -> ObjectRefGenerator:
        return self

    def __next__(self) -> Any:
        return self._next_sync()

    def __aiter__(self) -> ObjectRefGenerator:
        return self

    async def __anext__(self) -> Any:
        return await self._next_async()

    def send(self, value: Any) -> None:
        raise NotImplementedError("`gen.send` is not supported.")

    def throw(self, value: Any) -> None:
        raise NotImplementedError("`gen.throw` is not supported.")

    def close(self) -> None:
        raise NotImplementedError("`gen.close` is not supported.")

    async def asend(self, value: Any) -> None:
        raise NotImplementedError("`gen.asend` is not supported.")

    async def athrow(self, value: Any) -> None:
        raise NotImplementedError("`gen.athrow` is not supported.")

    async def aclose(self) -> None:
        raise NotImplementedError("`gen.aclose` is not supported.")

    def completed(self) -> Any:
        """The task's own ref: ready when the task ends; `get` raises the task's error."""
        return self._generator_ref

    def next_ready(self) -> bool:
        """Whether `next` would return at once with an item (not at the end of the stream)."""
        return not self.is_finished() and self._stream.unread() > 0

    def is_finished(self) -> bool:
        """Whether the stream is over and read to the end (an error counts once it is read)."""
        stream = self._stream
        if not stream.done or stream.unread() > 0:
            return False
        return self._generator_task_raised or self._generator_ref.state == 1

    def _ready_now(self) -> bool:
        """What `ray.wait` asks: would `next` return without blocking."""
        return self._stream.unread() > 0 or self._stream.done

    def _take(self) -> Any:
        """The next ref, or the task's error ref at the end; StopIteration after that."""
        stream = self._stream
        if stream.unread() > 0:
            ref = stream.items[stream.read]
            stream.read += 1
            producer = stream.producer
            if producer is not None and stream.unread() < (stream.backpressure or 0):
                stream.producer = None
                self._backend.kernel.wake(producer)
            return ref
        if self._generator_task_raised or self._generator_ref.state != 2:
            raise StopIteration
        self._generator_task_raised = True
        return self._generator_ref

    def _next_sync(self, timeout_s: float | None = None) -> Any:
        stream = self._stream
        if not self._ready_now():
            if timeout_s is not None and timeout_s <= 0:
                return nil_ref()
            waited = self._backend.wait_refs([stream.signal()], 1, False, timeout_s)
            if not waited and not self._ready_now():
                return nil_ref()
        return self._take()

    async def _next_async(self, timeout_s: float | None = None) -> Any:
        while not self._ready_now():
            await self._backend.await_ref(self._stream.signal())
        try:
            return self._take()
        except StopIteration:
            raise StopAsyncIteration from None

    def __reduce__(self) -> Any:
        raise TypeError(
            "You cannot return or pass a generator to other task. Serializing a "
            "ObjectRefGenerator is not allowed."
        )

    def __repr__(self) -> str:
        return f"<ObjectRefGenerator {self._generator_ref.hex()}>"


class DynamicObjectRefGenerator:
    """The value of a `num_returns="dynamic"` task: its yielded refs, iterated once."""

    def __init__(self, refs: Any):
        self._refs: deque[Any] = deque(refs)

    def __iter__(self) -> Iterator[Any]:
        while self._refs:
            yield self._refs.popleft()

    def __len__(self) -> int:
        return len(self._refs)


def nil_ref() -> Any:
    """The nil ref a generator's `_next_sync` returns when nothing came before its timeout."""
    from simray._object_ref import ObjectRef

    return ObjectRef.nil()


def wait_mixed(
    backend: Any, items: list[Any], num_returns: int, timeout: float | None
) -> tuple[list[Any], list[Any]]:
    """`ray.wait` over refs and generators on `sim`: a generator is ready when `next` would
    not block. The first ready ones in input order, as for refs."""
    kernel = backend.kernel
    deadline = None if timeout is None else kernel.now + timeout

    def is_ready(item: Any) -> bool:
        if isinstance(item, ObjectRefGenerator):
            return item._ready_now()
        return item.state != 0

    while True:
        ready_count = sum(1 for item in items if is_ready(item))
        remaining = None if deadline is None else deadline - kernel.now
        if ready_count >= num_returns or (remaining is not None and remaining <= 0):
            break
        watch = [
            item._stream.signal() if isinstance(item, ObjectRefGenerator) else item
            for item in items
            if not is_ready(item)
        ]
        if not backend.wait_refs(watch, 1, False, remaining):
            break
    return split_ready(items, num_returns, is_ready)


def split_ready(
    items: list[Any], num_returns: int, is_ready: Callable[[Any], bool]
) -> tuple[list[Any], list[Any]]:
    """`ray.wait`'s answer: the first `num_returns` ready items and the rest, in input order."""
    ready: list[Any] = []
    not_ready: list[Any] = []
    for item in items:
        if len(ready) < num_returns and is_ready(item):
            ready.append(item)
        else:
            not_ready.append(item)
    return ready, not_ready
