"""`ray.util.register_serializer` / `deregister_serializer`: a custom serializer for a class.

As in Ray, the registration belongs to the process that makes it: values that process
serializes (puts, task and actor arguments, nested ones, its tasks' return values) go through
`serializer`, and `deserializer` (pickled with the value) rebuilds them wherever they are read.
On `sim` the driver, each actor and each task are separate processes for this purpose; `local`
has real processes (a registration in the driver's pickler, or in one worker's); on `ray` these
are Ray's own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register_serializer(cls: type, *, serializer: Callable, deserializer: Callable) -> None:
    """Serialize instances of `cls` as `serializer(obj)`, rebuilt by `deserializer(that)`."""
    backend = _backend_name()
    if backend == "ray":
        import ray.util

        ray.util.register_serializer(cls, serializer=serializer, deserializer=deserializer)
        return
    _check_backend(backend)

    def reducer(obj: Any) -> Any:
        return deserializer, (serializer(obj),)

    if backend == "local":
        from simray._local.serialization import CUSTOM_REDUCERS

        CUSTOM_REDUCERS[cls] = reducer
        return
    from simray._sim import objects

    objects.register_reducer(cls, reducer)


def deregister_serializer(cls: type) -> None:
    """Forget the serializer of `cls` (no effect if there is none), as Ray does."""
    backend = _backend_name()
    if backend == "ray":
        import ray.util

        ray.util.deregister_serializer(cls)
        return
    _check_backend(backend)
    if backend == "local":
        from simray._local.serialization import CUSTOM_REDUCERS

        CUSTOM_REDUCERS.pop(cls, None)
        return
    from simray._sim import objects

    objects.unregister_reducer(cls)


def _backend_name() -> str:
    from simray import _session

    active = _session.active()
    return active.name if active is not None else "sim"


def _check_backend(name: str) -> None:
    if name not in ("sim", "local"):
        raise NotImplementedError(
            f"register_serializer is not provided on the {name!r} backend yet; run the "
            "program on 'sim' or 'ray'"
        )


__all__ = ["deregister_serializer", "register_serializer"]
