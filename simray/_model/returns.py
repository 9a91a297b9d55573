"""Rules of a task's start and end that the sim and local backends share: raising a failed
argument's error, splitting a result into its `num_returns` values, and whether a raised
exception is retried (`retry_exceptions`), with the line Ray's raylet prints when it is.
"""

from __future__ import annotations

from typing import Any


def raise_if_dependency_failed(error: BaseException) -> None:
    """Raise a failed argument's error; named as Ray's, so error texts say an input failed
    (`exceptions._task_frames` shows this frame as Ray's Cython one).

    Ray raises the stored error itself (not the dual instance) in a fresh frame: nothing that
    the backend was handling when the argument failed is chained to it.
    """
    raise error from None


def split_returns(result: Any, n: int) -> list[Any] | ValueError:
    """The `n` values a task or method returning `result` gives, or (not raised: the caller
    fails the task with it) Ray's ValueError if `result` is not a sequence of exactly `n`."""
    if n == 1:
        return [result]
    if n == 0:
        return []
    try:
        values = list(result)
    except TypeError:
        values = None
    if values is None or len(values) != n:
        return ValueError(
            f"Task returned {len(values) if values else 'a non-sequence'} objects, "
            f"but num_returns={n}."
        )
    return values


def retries_exception(retry: Any, cancelled: bool, retries_left: int, error: Any) -> bool:
    """Whether a task that raised `error` runs again: `retry_exceptions` (True or exception
    types) matches it, the task was not cancelled and it has retries left (-1: no limit)."""
    return bool(
        retry
        and not cancelled
        and retries_left != 0
        and isinstance(error, Exception)
        and (retry is True or isinstance(error, retry))
    )


def spend_retry(task: Any) -> bool:
    """Whether a task whose worker died runs again: it was not cancelled and has retries left
    (`max_retries`; -1: no limit, never spent). Spends one when it does."""
    if task.retries_left == 0 or task.cancelled:
        return False
    if task.retries_left > 0:
        task.retries_left -= 1
    return True


def retry_notice(name: str, retries_left: int, error: BaseException) -> str:
    """The line Ray prints (on stderr) when it retries a task that raised `error`."""
    left = retries_left if retries_left > 0 else "infinite"
    return (
        f"(raylet) Task {name} failed. There are {left} retries remaining, so the task will be "
        f"retried. Error: User exception: {type(error).__name__}: {error}"
    )
