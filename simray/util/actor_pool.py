"""`ray.util.ActorPool`: run work over a fixed set of actors, with Ray 2.60's semantics.

Each submission takes an idle actor (the most recently returned one first, as Ray pops from the
end of its idle list), or waits in a FIFO until one is returned. Ordered results (`get_next`,
`map`) come back in submission order; unordered ones (`get_next_unordered`, `map_unordered`) as
they finish. An actor whose call raises `ActorDiedError` leaves the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class ActorPool:
    """A pool of actor handles that `submit`/`map` spread work over."""

    def __init__(self, actors: list[Any]):
        self._idle_actors = list(actors)
        self._future_to_actor: dict[Any, tuple[int, Any]] = {}
        self._index_to_future: dict[int, Any] = {}
        self._next_task_index = 0
        self._next_return_index = 0
        self._pending_submits: list[tuple[Callable[[Any, Any], Any], Any]] = []

    def map(self, fn: Callable[[Any, Any], Any], values: list[Any]) -> Iterator[Any]:
        """Apply `fn(actor, value)` to every value; results in the order of `values`.

        Results still pending from earlier submissions are discarded first (Ray does so)."""
        self._drain(ordered=True)
        for value in values:
            self.submit(fn, value)

        def results() -> Iterator[Any]:
            while self.has_next():
                yield self.get_next()

        return results()

    def map_unordered(self, fn: Callable[[Any, Any], Any], values: list[Any]) -> Iterator[Any]:
        """Like `map`, but results come back as they finish."""
        self._drain(ordered=False)
        for value in values:
            self.submit(fn, value)

        def results() -> Iterator[Any]:
            while self.has_next():
                yield self.get_next_unordered()

        return results()

    def _drain(self, ordered: bool) -> None:
        while self.has_next():
            try:
                if ordered:
                    self.get_next(timeout=0, ignore_if_timedout=True)
                else:
                    self.get_next_unordered(timeout=0)
            except TimeoutError:
                pass

    def submit(self, fn: Callable[[Any, Any], Any], value: Any) -> None:
        """Schedule `fn(actor, value)` on an idle actor, or queue it until one is free."""
        if not self._idle_actors:
            self._pending_submits.append((fn, value))
            return
        actor = self._idle_actors.pop()
        future = fn(actor, value)
        key = tuple(future) if isinstance(future, list) else future
        self._future_to_actor[key] = (self._next_task_index, actor)
        self._index_to_future[self._next_task_index] = future
        self._next_task_index += 1

    def has_next(self) -> bool:
        """Whether results are pending."""
        return bool(self._future_to_actor)

    def get_next(self, timeout: float | None = None, ignore_if_timedout: bool = False) -> Any:
        """The next result in submission order; TimeoutError if it is not ready in time."""
        from simray import _api

        if not self.has_next():
            raise StopIteration("No more results to get")
        if self._next_return_index >= self._next_task_index:
            raise ValueError("It is not allowed to call get_next() after get_next_unordered().")
        future = self._index_to_future[self._next_return_index]
        timed_out = False
        if timeout is not None:
            ready, _ = _api.wait([future], timeout=timeout)
            if not ready:
                if not ignore_if_timedout:
                    raise TimeoutError("Timed out waiting for result")
                timed_out = True
        del self._index_to_future[self._next_return_index]
        self._next_return_index += 1
        key = tuple(future) if isinstance(future, list) else future
        _, actor = self._future_to_actor.pop(key)
        if timed_out:
            self._return_actor(actor)
            raise TimeoutError(f"Timed out waiting for result. The task {future} has been ignored.")
        return self._get_result(future, actor)

    def get_next_unordered(
        self, timeout: float | None = None, ignore_if_timedout: bool = False
    ) -> Any:
        """The next result to finish; TimeoutError if none finishes in time."""
        from simray import _api

        if not self.has_next():
            raise StopIteration("No more results to get")
        ready, _ = _api.wait(list(self._future_to_actor), num_returns=1, timeout=timeout)
        if not ready:
            raise TimeoutError("Timed out waiting for result")
        [future] = ready
        index, actor = self._future_to_actor.pop(future)
        del self._index_to_future[index]
        self._next_return_index = max(self._next_return_index, index + 1)
        return self._get_result(future, actor)

    def _get_result(self, future: Any, actor: Any) -> Any:
        from simray import _api
        from simray.exceptions import ActorDiedError

        alive = True
        try:
            return _api.get(future)
        except ActorDiedError:
            alive = False
            raise
        finally:
            self._return_actor(actor, alive)

    def _return_actor(self, actor: Any, alive: bool = True) -> None:
        if alive:
            self._idle_actors.append(actor)
        if self._pending_submits and self._idle_actors:
            self.submit(*self._pending_submits.pop(0))

    def has_free(self) -> bool:
        """Whether an actor is idle and no submission waits for one."""
        return bool(self._idle_actors) and not self._pending_submits

    def pop_idle(self) -> Any:
        """Remove and return an idle actor, or None."""
        return self._idle_actors.pop() if self.has_free() else None

    def push(self, actor: Any) -> None:
        """Add an actor to the pool (it may take a waiting submission at once)."""
        busy = [a for _, a in self._future_to_actor.values()]
        if actor in self._idle_actors or actor in busy:
            raise ValueError("Actor already belongs to current ActorPool")
        self._return_actor(actor)


__all__ = ["ActorPool"]
