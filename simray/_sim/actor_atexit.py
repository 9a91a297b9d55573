"""The end of a sim actor's process. Each actor is its own simulated worker process, so a
handler that an actor registers with `atexit` runs when that actor's process ends, not at the
driver's exit; and how the process ends decides what of it runs (Ray 2.60, by experiment): a
graceful end (`exit_actor`, `__ray_terminate__`, out of scope) deletes the instance, so its
`__del__` runs, then the atexit handlers, both printing as the actor; a kill (`ray.kill`,
SIGKILL, `os._exit`) runs neither.
"""

from __future__ import annotations

import atexit
from typing import Any

from simray._sim.kernel import Unit


class _ActorProcess(Unit):
    """Stands for an actor's process while its end runs outside the actor's own units (its last
    handle went in the driver): what `__del__` and atexit handlers print carries its prefix."""

    __slots__ = ("actor",)

    def __init__(self, actor: Any):
        super().__init__()
        self.actor = actor


def _no_del(self: Any) -> None:
    """A killed process runs no finalizer."""


def _without_finalizer(instance: Any) -> None:
    """Make `instance`'s own `__del__` a no-op (its class swapped for a subclass without one),
    so dropping it frees what it holds (handles, refs, as the dead process's do) silently."""
    cls = type(instance)
    if getattr(cls, "__del__", None) is None:
        return
    try:
        quiet = type(cls.__name__, (cls,), {"__slots__": (), "__del__": _no_del})
        instance.__class__ = quiet
    except Exception:  # noqa: BLE001 - a class that cannot be subclassed keeps its __del__
        pass


class ActorAtexit:
    """The session's hook on `atexit.register`/`unregister`, and running an actor's handlers."""

    def __init__(self, kernel: Any):
        self.kernel = kernel
        self._saved: tuple[Any, Any] | None = None  # the real register and unregister

    def process_ends(self, actor: Any, graceful: bool) -> None:
        """The actor's process ends: gracefully, its instance is deleted (`__del__` runs unless
        something else holds it) and then its atexit handlers run, last registered first, as
        the interpreter does; else (killed) neither runs and the instance is dropped quietly."""
        handlers, actor.atexit = actor.atexit, []
        if not graceful:
            if actor.instance is not None:
                _without_finalizer(actor.instance)
                actor.instance = None
            return
        kernel = self.kernel
        current = kernel.current
        own = (
            getattr(current, "actor", None) is actor
            or getattr(getattr(current, "opts", None), "actor", None) is actor
        )
        if not own:
            kernel.current = _ActorProcess(actor)
        try:
            actor.instance = None
            for fn, args, kwargs in reversed(handlers):
                try:
                    fn(*args, **kwargs)
                except Exception:  # noqa: BLE001 - the interpreter reports and goes on
                    import traceback

                    traceback.print_exc()
        finally:
            if not own:
                kernel.current = current

    def install(self) -> None:
        """`atexit.register` inside an actor registers with that actor's simulated process."""
        from simray._sim.actor_records import SimActor

        self._saved = (atexit.register, atexit.unregister)
        real_register, real_unregister = self._saved
        kernel = self.kernel

        def owner() -> SimActor | None:
            unit = kernel.current
            actor = getattr(unit, "actor", None)
            if actor is None and unit is not None:
                actor = getattr(getattr(unit, "opts", None), "actor", None)
            return actor if isinstance(actor, SimActor) else None

        def register(fn: Any, *args: Any, **kwargs: Any) -> Any:
            actor = owner()
            if actor is None:
                return real_register(fn, *args, **kwargs)
            actor.atexit.append((fn, args, kwargs))
            return fn

        def unregister(fn: Any) -> None:
            actor = owner()
            if actor is None:
                real_unregister(fn)
            else:
                actor.atexit = [h for h in actor.atexit if h[0] != fn]

        atexit.register, atexit.unregister = register, unregister  # type: ignore[assignment]

    def uninstall(self) -> None:
        """Give `atexit` back its own register and unregister (at the session's end)."""
        if self._saved is not None:
            atexit.register, atexit.unregister = self._saved  # type: ignore[assignment]
            self._saved = None
