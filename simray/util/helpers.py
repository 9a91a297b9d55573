"""`ray.util.as_completed` and `ray.util.map_unordered`: results as they finish, in chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

DEFAULT_CHUNK_SIZE = 10
DEFAULT_BACKPRESSURE_SIZE = 100


def _next_batch(
    refs: Sequence[Any], *, chunk_size: int, yield_obj_refs: bool, **kwargs: Any
) -> tuple[list[Any], list[Any]]:
    from simray import _api

    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    ready, rest = _api.wait(list(refs), num_returns=min(chunk_size, len(refs)), **kwargs)
    return (ready if yield_obj_refs else _api.get(ready)), rest


def as_completed(
    refs: Sequence[Any],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    yield_obj_refs: bool = False,
    **kwargs: Any,
) -> Iterator[Any]:
    """Yield the values (or refs) of `refs` as they become ready, `chunk_size` at a time."""
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    if "num_returns" in kwargs:
        raise ValueError("Use the `chunksize` argument instead of `num_returns`.")
    while refs:
        results, refs = _next_batch(
            refs, chunk_size=chunk_size, yield_obj_refs=yield_obj_refs, **kwargs
        )
        yield from results


def map_unordered(
    fn: Any,
    items: Iterable[Any],
    *,
    backpressure_size: int | None = DEFAULT_BACKPRESSURE_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    yield_obj_refs: bool = False,
    **kwargs: Any,
) -> Iterator[Any]:
    """Submit `fn.remote(item)` for each item, at most `backpressure_size` in flight, and yield
    results as they finish."""
    limit = float("inf") if backpressure_size is None else backpressure_size
    if limit <= 0:
        raise ValueError("backpressure_size must be positive.")
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    if "num_returns" in kwargs:
        raise ValueError("Use the `chunk_size` argument instead of `num_returns`.")
    refs: list[Any] = []
    for item in items:
        refs.append(fn.remote(item))
        if len(refs) >= limit:
            results, refs = _next_batch(
                refs, chunk_size=chunk_size, yield_obj_refs=yield_obj_refs, **kwargs
            )
            yield from results
    yield from as_completed(refs, chunk_size=chunk_size, yield_obj_refs=yield_obj_refs, **kwargs)
