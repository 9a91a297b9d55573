"""A normal task of the sim backend: its spec, its state and what it holds.

A task is also the unit that runs its body, so a task costs one object from submission to end.
"""

from __future__ import annotations

from typing import Any

from simray._sim.kernel import Unit

WAITING_DEPS, QUEUED, RUNNING, FINISHED = "waiting for arguments", "queued", "running", "finished"


class Task(Unit):
    """One remote function call, through all its attempts."""

    __slots__ = (
        "task_id",
        "seq",
        "fn",
        "name",
        "args",
        "kwargs",
        "demand",
        "strategy",
        "sched_key",
        "returns",
        "retries_left",
        "retry_exceptions",
        "attempt",
        "node",
        "gpu_shares",
        "state",
        "cpu_released",
        "parent",
        "children",
        "cancelled",
        "deps_left",
        "preferred_node",
        "plain_args",
    )

    def __init__(
        self,
        task_id: int,
        fn: Any,
        name: str,
        args: list[Any],
        kwargs: dict[str, Any],
        opts: Any,
        parent: Task | None,
    ):
        self.glet = None
        self.blocked_on = None
        self.wake_token = 0
        self.env = None
        self.interrupt = False
        self.plain_args = False
        self.task_id = task_id
        self.seq = task_id
        self.fn = fn
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.demand = opts.demand
        self.strategy = opts.strategy
        self.sched_key = opts.sched_key
        self.returns: list[Any] = []
        self.retries_left: int = opts.max_retries
        self.retry_exceptions = opts.retry_exceptions
        self.attempt = 0
        self.node: Any = None
        self.gpu_shares: list[tuple[int, int]] = []
        self.state = WAITING_DEPS
        self.cpu_released = False
        self.parent = parent
        self.children: dict[Task, None] | None = None  # insertion-ordered, O(1) removal
        self.cancelled = False
        self.deps_left = 0
        self.preferred_node: Any = parent.node if parent is not None else None

    def hex(self) -> str:
        """The task id as Ray prints one (48 hex digits)."""
        return f"{self.task_id:048x}"

    def label(self) -> str:
        """`name()` with its id, for traces and explanations."""
        return f"task {self.task_id} {self.name}()"

    def gpu_ids(self) -> list[int]:
        return sorted({i for i, _ in self.gpu_shares})
