"""`ray.actor`: actor classes, handles and methods, and `exit_actor()` to end an actor from inside."""

from __future__ import annotations

from simray._actor import ActorClass as ActorClass
from simray._actor import ActorHandle as ActorHandle
from simray._actor import ActorMethod as ActorMethod
from simray._api import method as method

DEFAULT_MAX_CONCURRENCY_ASYNC = 1000
STREAMING_GENERATOR_RETURN = -2


class ActorClassInheritanceException(TypeError):
    """Raised when a class inherits from an actor class (Ray forbids it)."""


def exit_actor() -> None:
    """End the current actor from one of its methods.

    The caller of that method gets `ActorDiedError`; queued calls fail; calls still running in a
    threaded or async actor finish first; the actor is not restarted; its `atexit` handlers run.
    Outside an actor: TypeError.
    """
    from simray import _session

    _session.backend().exit_actor()


__all__ = [
    "DEFAULT_MAX_CONCURRENCY_ASYNC",
    "STREAMING_GENERATOR_RETURN",
    "ActorClass",
    "ActorClassInheritanceException",
    "ActorHandle",
    "ActorMethod",
    "exit_actor",
    "method",
]
