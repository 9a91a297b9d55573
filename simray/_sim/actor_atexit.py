"""`atexit` inside sim actors: each actor is its own simulated worker process, so a handler
that an actor registers runs when that actor's process ends, not at the driver's exit.
"""

from __future__ import annotations

import atexit
from typing import Any


class ActorAtexit:
    """The session's hook on `atexit.register`/`unregister`, and running an actor's handlers."""

    def __init__(self, kernel: Any):
        self.kernel = kernel
        self._saved: tuple[Any, Any] | None = None  # the real register and unregister

    def run(self, actor: Any) -> None:
        """Run the actor's atexit handlers, last registered first, as the interpreter does."""
        handlers, actor.atexit = actor.atexit, []
        for fn, args, kwargs in reversed(handlers):
            try:
                fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - the interpreter reports and goes on
                import traceback

                traceback.print_exc()

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
