"""A normal task of the sim backend: its spec, its state and what it holds.

A task is also the unit that runs its body, so a task costs one object from submission to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simray import _ids
from simray._model.resources import NO_GPU_SHARES
from simray._sim.kernel import Unit

WAITING_DEPS, QUEUED, RUNNING, FINISHED = "waiting for arguments", "queued", "running", "finished"


class Task(Unit):
    """One remote function call, through all its attempts."""

    __slots__ = (
        "task_id",
        "fn",
        "args",
        "kwargs",
        "demand",
        "strategy",
        "sched_key",
        "opts",
        "returns",
        "retries_left",
        "attempt",
        "node",
        "gpu_shares",
        "pool",
        "state",
        "cpu_released",
        "parent",
        "children",
        "cancelled",
        "deps_left",
        "plain_args",
        "env_vars",  # runtime_env env_vars (job, parent and own, merged), or None
        "created_at",  # virtual times of submission, start and end (for the state API)
        "started_at",
        "ended_at",
    )

    def __init__(
        self,
        task_id: int,
        fn: Any,
        args: list[Any],
        kwargs: dict[str, Any],
        opts: Any,
        parent: Task | None,
        plain_args: bool = False,
    ):
        self.glet = None
        self.blocked_on = None
        self.wake_token = 0
        self.env = None
        self.interrupt = False
        self.loop = None
        self.plain_args = plain_args  # args are immutable scalars only, passed as they are
        self.env_vars: dict[str, str] | None = None
        self.task_id = task_id
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.demand = opts.demand
        self.opts = opts
        self.strategy = opts.strategy
        self.sched_key = opts.sched_key
        self.returns: Sequence[Any] = ()  # a tuple for one return, a list for several
        self.retries_left: int = opts.max_retries
        self.attempt = 0
        self.node: Any = None
        self.gpu_shares: Sequence[tuple[int, int]] = NO_GPU_SHARES
        self.pool: Any = None  # the NodeResources it took its resources from (node or bundle)
        self.state = WAITING_DEPS
        self.cpu_released = False
        self.parent = parent
        self.children: dict[Task, None] | None = None  # insertion-ordered, O(1) removal
        self.cancelled = False
        self.deps_left = 0
        self.created_at = 0.0
        self.started_at: float | None = None
        self.ended_at: float | None = None

    @property
    def name(self) -> str:
        return self.opts.name

    @property
    def seq(self) -> int:
        """Submission order."""
        return self.task_id

    @property
    def retry_exceptions(self) -> bool | tuple[type, ...]:
        return self.opts.retry_exceptions

    @property
    def preferred_node(self) -> Any:
        """Where the submitter runs: Ray's hybrid policy prefers the local node."""
        parent = self.parent
        return parent.node if parent is not None else None

    def hex(self) -> str:
        """The task id as Ray prints one (48 hex digits, derived from the seed)."""
        return _ids.current.task_hex(self.task_id)

    def parent_hex(self) -> str | None:
        """The id of the task that submitted it (None for the driver)."""
        return self.parent.hex() if self.parent is not None else None

    def label(self) -> str:
        """`name()` with its id, for traces and explanations."""
        return f"task {self.task_id} {self.name}()"

    def gpu_ids(self) -> list[int]:
        ids = self.pool.gpu_ids if self.pool is not None else []
        return sorted({ids[i] for i, _ in self.gpu_shares})


class EndedTask:
    """What `ray.util.state` keeps of a task that ended: the fields of its row, without its
    arguments, values or links to other tasks; the row itself is made only when asked for."""

    __slots__ = (
        "task_id",
        "attempt",
        "opts",
        "parent_id",
        "node",
        "demand",
        "strategy",
        "error",
        "created_at",
        "started_at",
        "ended_at",
    )

    def __init__(self, task: Task):
        self.task_id = task.task_id
        self.attempt = task.attempt
        self.opts = task.opts
        parent = task.parent
        self.parent_id = parent.task_id if parent is not None else None
        self.node = task.node
        self.demand = task.demand
        self.strategy = task.strategy
        self.created_at = task.created_at
        self.started_at = task.started_at
        self.ended_at = task.ended_at
        returns = task.returns
        failed = returns and returns[0].state == 2  # objects.FAILED
        self.error: BaseException | None = returns[0].stored if failed else None

    @property
    def name(self) -> str:
        return self.opts.name

    def hex(self) -> str:
        return _ids.current.task_hex(self.task_id)

    def parent_hex(self) -> str | None:
        return None if self.parent_id is None else _ids.current.task_hex(self.parent_id)
