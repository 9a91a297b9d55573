"""`@remote` on a function: `RemoteFunction` with `.remote()` and `.options()`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from simray import _session
from simray._options import TaskOptions, validate_task_options


class RemoteFunction:
    """A function that runs as a task; call it with `.remote(...)`, never directly."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]):
        validate_task_options(options, in_options=False)
        self._function = fn
        self._default_options = options
        self._resolved = TaskOptions(options, fn.__name__, _is_generator(fn))
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "Remote functions cannot be called directly. Instead of running "
            f"'{self._function.__name__}()', try '{self._function.__name__}.remote()'."
        )

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        """Submit a call; returns an ObjectRef (a list of them for num_returns > 1)."""
        backend = _session._active or _session.backend()  # one global read on the hot path
        return backend.submit_task(self._function, args, kwargs, self._resolved)

    def options(self, **task_options: Any) -> _BoundOptions:
        """The same function with some options overridden for the calls made through it."""
        validate_task_options(task_options, in_options=True)
        merged = {**self._default_options, **task_options}
        return _BoundOptions(
            self._function,
            TaskOptions(merged, self._function.__name__, _is_generator(self._function)),
        )

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """A `ray.dag` node calling this function (run it with `.execute()`)."""
        from simray.dag import FunctionNode

        return FunctionNode(self, args, kwargs)


class _BoundOptions:
    """What `.options()` returns: `.remote()` with the merged options."""

    def __init__(self, fn: Callable[..., Any], resolved: TaskOptions):
        self._function = fn
        self._resolved = resolved

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        backend = _session._active or _session.backend()
        return backend.submit_task(self._function, args, kwargs, self._resolved)

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        from simray.dag import FunctionNode

        return FunctionNode(self, args, kwargs)

    def options(self, **task_options: Any) -> _BoundOptions:
        validate_task_options(task_options, in_options=True)
        merged = {**self._resolved.raw, **task_options}
        return _BoundOptions(
            self._function,
            TaskOptions(merged, self._function.__name__, _is_generator(self._function)),
        )


def _is_generator(fn: Any) -> bool:
    """A generator function (CO_GENERATOR) or async generator (CO_ASYNC_GENERATOR)."""
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & (0x20 | 0x200))
