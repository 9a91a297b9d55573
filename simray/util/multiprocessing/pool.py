"""`Pool`: `multiprocessing.Pool`'s API on a set of actors, as Ray 2.60's `ray.util.multiprocessing`.

Work is cut in chunks (by default `len(iterable) / (4 * processes)`, rounded up) given round-robin
to the pool's actors; `map` and friends return the results in input order and raise the first
task's exception as itself; `imap_unordered` yields results as chunks finish. Results are waited
for with `wait`/`get`, so on `sim` everything runs in virtual time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from multiprocessing import TimeoutError as MPTimeoutError
from typing import Any


class _TaskError(Exception):
    """A task's exception, carried back inside a chunk's results."""

    def __init__(self, underlying: BaseException):
        super().__init__(underlying)
        self.underlying = underlying


class _PoolActor:
    """One pool process: runs chunks of calls, keeping each call's exception as its result."""

    def __init__(self, initializer: Callable[..., Any] | None = None, initargs: Any = None):
        if initializer:
            initializer(*(initargs or ()))

    def ping(self) -> None:
        pass

    def run_batch(self, func: Callable[..., Any], batch: list[Any]) -> list[Any]:
        results = []
        for args, kwargs in batch:
            try:
                results.append(func(*(args or ()), **(kwargs or {})))
            except Exception as e:  # noqa: BLE001 - the caller re-raises it
                results.append(_TaskError(e))
        return results


def _unwrap(batch: list[Any]) -> list[Any]:
    for result in batch:
        if isinstance(result, _TaskError):
            raise result.underlying
    return batch


class AsyncResult:
    """The pending result of `apply_async`, `map_async` or `starmap_async`."""

    def __init__(
        self,
        refs: list[Any],
        callback: Callable[[Any], Any] | None = None,
        error_callback: Callable[[BaseException], Any] | None = None,
        single_result: bool = False,
    ):
        self._refs = refs
        self._single = single_result
        self._callback = callback
        self._error_callback = error_callback
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def wait(self, timeout: float | None = None) -> None:
        """Return when the result is ready or `timeout` passes (no error on timeout)."""
        from simray import _api

        if self._done or not self._refs:
            self._finish()
            return
        ready, _ = _api.wait(self._refs, num_returns=len(self._refs), timeout=timeout)
        if len(ready) == len(self._refs):
            self._finish()

    def _finish(self) -> None:
        from simray import _api

        if self._done:
            return
        self._done = True
        results: list[Any] = []
        try:
            for batch in _api.get(self._refs):
                results.extend(_unwrap(batch))
        except Exception as e:  # noqa: BLE001
            self._error = e
            if self._error_callback is not None:
                self._error_callback(e)
            return
        self._value = results[0] if self._single else results
        if self._callback is not None:
            self._callback(self._value)

    def get(self, timeout: float | None = None) -> Any:
        """The result; raises `multiprocessing.TimeoutError` if not ready in time, or the
        task's exception."""
        self.wait(timeout)
        if not self._done:
            raise MPTimeoutError
        if self._error is not None:
            raise self._error
        return self._value

    def ready(self) -> bool:
        if not self._done:
            self.wait(0)
        return self._done

    def successful(self) -> bool:
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._error is None


class Pool:
    """A pool of `processes` actors (default: the cluster's CPUs)."""

    def __init__(
        self,
        processes: int | None = None,
        initializer: Callable[..., Any] | None = None,
        initargs: Iterable[Any] | None = None,
        maxtasksperchild: int | None = None,
        context: Any = None,
        ray_address: str | None = None,
        ray_remote_args: dict[str, Any] | None = None,
    ):
        from simray import _api

        self._closed = False
        self._initializer = initializer
        self._initargs = initargs
        self._maxtasksperchild = maxtasksperchild or -1
        self._stopping: list[Any] = []
        if not _api.is_initialized():
            if ray_address is not None and ray_address != "local":
                _api.init(address=ray_address)
            else:
                _api.init(num_cpus=processes)
        cpus = int(_api.cluster_resources().get("CPU", 0))
        if processes is None:
            processes = cpus
        if processes <= 0:
            raise ValueError("Processes in the pool must be >0.")
        if cpus < processes:
            raise ValueError(
                f"Tried to start a pool with {processes} processes on an existing ray cluster, "
                f"but there are only {cpus} CPUs in the ray cluster."
            )
        self._actor_class = _api.remote(_PoolActor).options(**(ray_remote_args or {}))
        self._actors = [self._new_actor() for _ in range(processes)]
        _api.get([actor.ping.remote() for actor, _ in self._actors])

    def _new_actor(self) -> tuple[Any, int]:
        return self._actor_class.remote(self._initializer, self._initargs), 0

    def _run_batch(self, index: int, func: Callable[..., Any], batch: list[Any]) -> Any:
        actor, count = self._actors[index]
        ref = actor.run_batch.remote(func, batch)
        count += 1
        if count == self._maxtasksperchild:
            self._stopping.append(actor.__ray_terminate__.remote())
            actor, count = self._new_actor()
        self._actors[index] = (actor, count)
        return ref

    def _check_running(self) -> None:
        if self._closed:
            raise ValueError("Pool not running")

    def _chunks(
        self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int | None, star: bool
    ) -> list[Any]:
        items = list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(items), len(self._actors) * 4)
            chunksize += 1 if extra else 0
        refs = []
        for start in range(0, len(items), max(chunksize, 1)):
            chunk = [((tuple(x) if star else (x,)), {}) for x in items[start : start + chunksize]]
            refs.append(self._run_batch(len(refs) % len(self._actors), func, chunk))
        return refs

    # -- the multiprocessing.Pool API ------------------------------------------------------------
    def apply(
        self, func: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        return self.apply_async(func, args, kwargs).get()

    def apply_async(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        callback: Callable[[Any], Any] | None = None,
        error_callback: Callable[[BaseException], Any] | None = None,
    ) -> AsyncResult:
        self._check_running()
        ref = self._run_batch(self._next_index(), func, [(args, kwargs)])
        return AsyncResult([ref], callback, error_callback, single_result=True)

    def _next_index(self) -> int:
        self._rr = (getattr(self, "_rr", 0) + 1) % len(self._actors)
        return self._rr

    def map(
        self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int | None = None
    ) -> list[Any]:
        return self.map_async(func, iterable, chunksize).get()

    def map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        chunksize: int | None = None,
        callback: Callable[[Any], Any] | None = None,
        error_callback: Callable[[BaseException], Any] | None = None,
    ) -> AsyncResult:
        self._check_running()
        return AsyncResult(self._chunks(func, iterable, chunksize, False), callback, error_callback)

    def starmap(
        self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int | None = None
    ) -> list[Any]:
        return self.starmap_async(func, iterable, chunksize).get()

    def starmap_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        chunksize: int | None = None,
        callback: Callable[[Any], Any] | None = None,
        error_callback: Callable[[BaseException], Any] | None = None,
    ) -> AsyncResult:
        self._check_running()
        return AsyncResult(self._chunks(func, iterable, chunksize, True), callback, error_callback)

    def imap(
        self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int | None = 1
    ) -> Iterator[Any]:
        """Results in input order, each as soon as it and those before it are ready."""
        from simray import _api

        self._check_running()
        refs = self._chunks(func, iterable, chunksize or 1, False)

        def results() -> Iterator[Any]:
            for ref in refs:
                yield from _unwrap(_api.get(ref))

        return results()

    def imap_unordered(
        self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int | None = 1
    ) -> Iterator[Any]:
        """Results as their chunks finish."""
        from simray import _api

        self._check_running()
        pending = self._chunks(func, iterable, chunksize or 1, False)

        def results() -> Iterator[Any]:
            nonlocal pending
            while pending:
                ready, pending = _api.wait(pending, num_returns=1)
                yield from _unwrap(_api.get(ready[0]))

        return results()

    def close(self) -> None:
        """No more submissions; outstanding work finishes, then the actors exit."""
        for actor, _ in self._actors:
            self._stopping.append(actor.__ray_terminate__.remote())
        self._closed = True

    def terminate(self) -> None:
        """No more submissions; the actors are killed now."""
        from simray import _api

        if not self._closed:
            self.close()
        for actor, _ in self._actors:
            _api.kill(actor)

    def join(self) -> None:
        """Wait for the actors of a closed pool to exit."""
        from simray import _api

        if not self._closed:
            raise ValueError("Pool is still running")
        if self._stopping:
            _api.wait(self._stopping, num_returns=len(self._stopping))
            self._stopping = []

    def __enter__(self) -> Pool:
        self._check_running()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.terminate()
