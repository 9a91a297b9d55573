"""`ray.util.queue`: a FIFO queue shared by tasks and actors, held by an async actor.

As in Ray, the queue lives in an actor (`actor_options` shape it); blocking `put`/`get` wait in
that actor (in virtual time on `sim`), and a timeout raises `Full`/`Empty`.
"""

from __future__ import annotations

import queue as _queue
from collections.abc import Iterable
from typing import Any


class Empty(_queue.Empty):
    """Raised by `get` on an empty queue (non-blocking, or after the timeout)."""


class Full(_queue.Full):
    """Raised by `put` on a full queue (non-blocking, or after the timeout)."""


class Queue:
    """A first-in first-out queue usable from the driver, tasks and actors."""

    def __init__(self, maxsize: int = 0, actor_options: dict[str, Any] | None = None) -> None:
        from simray import _api

        self.maxsize = maxsize
        self.actor: Any = (
            _api.remote(_QueueActor).options(**(actor_options or {})).remote(self.maxsize)
        )

    def __len__(self) -> int:
        return self.size()

    def size(self) -> int:
        """The number of items in the queue."""
        return _get(self.actor.qsize.remote())

    def qsize(self) -> int:
        return self.size()

    def empty(self) -> bool:
        return _get(self.actor.empty.remote())

    def full(self) -> bool:
        return _get(self.actor.full.remote())

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Add `item`; blocks while full (up to `timeout`, then `Full`) unless `block=False`."""
        import asyncio

        if not block:
            try:
                _get(self.actor.put_nowait.remote(item))
            except asyncio.QueueFull:
                raise Full from None
        elif timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        else:
            _get(self.actor.put.remote(item, timeout))

    async def put_async(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """`put` for async code: awaits instead of blocking the caller."""
        import asyncio

        if not block:
            try:
                await self.actor.put_nowait.remote(item)
            except asyncio.QueueFull:
                raise Full from None
        elif timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        else:
            await self.actor.put.remote(item, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return the first item; blocks while empty (up to `timeout`, then `Empty`)."""
        import asyncio

        if not block:
            try:
                return _get(self.actor.get_nowait.remote())
            except asyncio.QueueEmpty:
                raise Empty from None
        if timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        return _get(self.actor.get.remote(timeout))

    async def get_async(self, block: bool = True, timeout: float | None = None) -> Any:
        """`get` for async code."""
        import asyncio

        if not block:
            try:
                return await self.actor.get_nowait.remote()
            except asyncio.QueueEmpty:
                raise Empty from None
        if timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        return await self.actor.get.remote(timeout)

    def put_nowait(self, item: Any) -> None:
        return self.put(item, block=False)

    def put_nowait_batch(self, items: Iterable[Any]) -> None:
        """Add all `items` at once, or none (`Full`) if they do not fit."""
        if not isinstance(items, Iterable):
            raise TypeError("Argument 'items' must be an Iterable")
        _get(self.actor.put_nowait_batch.remote(items))

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def get_nowait_batch(self, num_items: int) -> list[Any]:
        """Remove and return `num_items` items at once, or none (`Empty`)."""
        if not isinstance(num_items, int):
            raise TypeError("Argument 'num_items' must be an int")
        if num_items < 0:
            raise ValueError("'num_items' must be nonnegative")
        return _get(self.actor.get_nowait_batch.remote(num_items))

    def shutdown(self, force: bool = False, grace_period_s: int = 5) -> None:
        """End the queue's actor: at once if `force`, else gracefully (killed after the grace)."""
        from simray import _api

        if self.actor:
            if force:
                _api.kill(self.actor, no_restart=True)
            else:
                done = self.actor.__ray_terminate__.remote()
                _, not_done = _api.wait([done], timeout=grace_period_s)
                if not_done:
                    _api.kill(self.actor, no_restart=True)
        self.actor = None


def _get(ref: Any) -> Any:
    from simray import _api

    return _api.get(ref)


class _QueueActor:
    """The actor that holds the items (an asyncio.Queue, so waiting callers interleave)."""

    def __init__(self, maxsize: int):
        import asyncio

        self.maxsize = maxsize
        self.queue: Any = asyncio.Queue(maxsize)

    def qsize(self) -> int:
        return self.queue.qsize()

    def empty(self) -> bool:
        return self.queue.empty()

    def full(self) -> bool:
        return self.queue.full()

    async def put(self, item: Any, timeout: float | None = None) -> None:
        import asyncio

        try:
            await asyncio.wait_for(self.queue.put(item), timeout)
        except TimeoutError:
            raise Full from None

    async def get(self, timeout: float | None = None) -> Any:
        import asyncio

        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            raise Empty from None

    def put_nowait(self, item: Any) -> None:
        self.queue.put_nowait(item)

    def put_nowait_batch(self, items: Any) -> None:
        items = list(items)
        if self.maxsize > 0 and len(items) + self.qsize() > self.maxsize:
            raise Full(
                f"Cannot add {len(items)} items to queue of size {self.qsize()} and maxsize "
                f"{self.maxsize}."
            )
        for item in items:
            self.queue.put_nowait(item)

    def get_nowait(self) -> Any:
        return self.queue.get_nowait()

    def get_nowait_batch(self, num_items: int) -> list[Any]:
        if num_items > self.qsize():
            raise Empty(f"Cannot get {num_items} items from queue of size {self.qsize()}.")
        return [self.queue.get_nowait() for _ in range(num_items)]


__all__ = ["Empty", "Full", "Queue"]
