"""What the sim backend keeps of an actor and its calls: the actor's record (`SimActor`), a
method call as a schedulable unit (`ActorCall`), what the state API keeps of an ended call
(`EndedCall`) and the unit that runs an async actor's event loop (`ActorLoop`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simray import _ids
from simray._model.actors import ActorRecord
from simray._sim.kernel import Unit
from simray._sim.objects import FAILED, SimRef

if TYPE_CHECKING:  # asyncio is imported when an async actor runs, not with the backend
    import asyncio

    from simray._actor import ActorOptions


class ActorExit(SystemExit):
    """Raised by `exit_actor()` in a sync or threaded actor (Ray raises SystemExit there)."""


class SimActor(ActorRecord):
    """One actor's record: where it lives, what it holds, its mailbox and its fate."""

    def __init__(self, actor_id: int, cls: type, opts: ActorOptions, namespace: str):
        super().__init__(actor_id, cls, opts, namespace)
        self.instance: Any = None
        self.running: dict[ActorCall, None] = {}
        self.loop_unit: ActorLoop | None = None
        self.env: Any = None
        self.init_args: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self.exiting: BaseException | None = None  # set by exit_actor while calls still run
        self.atexit: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def label(self) -> str:
        return f"actor {self.opts.class_name}({self.actor_id})"

    def hex(self) -> str:
        """The ActorID as Ray prints one (32 hex digits, derived from the seed)."""
        return _ids.current.actor_binary(self.actor_id).hex()


class ActorCall(Unit):
    """One method call; a unit of its own on sync and threaded actors."""

    __slots__ = (
        "call_id",
        "actor",
        "method",
        "args",
        "kwargs",
        "returns",
        "deps_left",
        "state",
        "cancelled",
        "demand",
        "cpu_released",
        "attempts",
        "atask",
        "group",
        "created_at",
        "started_at",
        "ended_at",
    )

    def __init__(self, call_id: int, actor: SimActor, method: str, args: Any, kwargs: Any):
        super().__init__()
        self.call_id = call_id
        self.actor = actor
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.returns: list[SimRef] = []
        self.deps_left = 0
        self.state = "waiting for arguments"
        self.cancelled = False
        self.demand: dict[str, int] = {}
        self.cpu_released = False
        self.attempts = 1
        self.atask: asyncio.Task[None] | None = None  # its asyncio task, on an async actor
        self.group: str | None = None  # its concurrency group; None: the default group
        self.created_at = 0.0  # virtual times of submission, start and end (state API)
        self.started_at: float | None = None
        self.ended_at: float | None = None

    @property
    def node(self) -> Any:
        return self.actor.node

    def hex(self) -> str:
        return _ids.current.task_hex(self.call_id, self.actor.actor_id)

    def label(self) -> str:
        return f"call {self.actor.opts.class_name}.{self.method}() of {self.actor.label()}"


class EndedCall:
    """What `ray.util.state` keeps of an actor call that ended: the fields of its row as they
    were then (the actor may restart elsewhere later); the row is made only when asked for."""

    __slots__ = (
        "call_id",
        "attempts",
        "actor",
        "method",
        "node",
        "restarts",
        "error",
        "created_at",
        "started_at",
        "ended_at",
    )

    def __init__(self, call: ActorCall, error: BaseException | None, now: float):
        actor = call.actor
        self.call_id = call.call_id
        self.created_at = call.created_at
        self.started_at = call.started_at
        self.ended_at = call.ended_at if call.ended_at is not None else now
        self.attempts = call.attempts
        self.actor = actor
        self.method = call.method
        self.node = actor.node
        self.restarts = actor.restarts
        returns = call.returns
        if error is None and returns and returns[0].state == FAILED:
            error = returns[0].stored
        self.error = error

    def hex(self) -> str:
        return _ids.current.task_hex(self.call_id, self.actor.actor_id)


class ActorLoop(Unit):
    """The unit that runs an async actor's event loop."""

    __slots__ = ("actor", "aloop")

    def __init__(self, actor: SimActor):
        super().__init__()
        self.actor = actor
        self.aloop: asyncio.AbstractEventLoop | None = None

    def label(self) -> str:
        return f"the event loop of {self.actor.label()}"
