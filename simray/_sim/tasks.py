"""A normal task of the sim backend: its spec, its state and what it holds.

A task is also the unit that runs its body, so a task costs one object from submission to end.
A million queued tasks are a million of these, so a task keeps no field it can derive: its
demand, strategy and scheduling class are its options' (a child that a placement group
captures gets options of its own), whether its arguments are plain is the type of `args`, its
env_vars ride in `env`, and its submission time is read off `SubmitTimes` (the state API is the
only reader of the times).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from simray import _ids
from simray._model.resources import NO_GPU_SHARES
from simray._runtime_env import UnitEnv
from simray._sim import objects
from simray._sim.kernel import Unit

WAITING_DEPS, QUEUED, RUNNING, FINISHED = "waiting for arguments", "queued", "running", "finished"
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})  # the keyword arguments of most calls


class RareField:
    """A field of `Task` that few tasks ever set (keyword arguments, retries, cancel, children,
    argument dependencies): it lives in the task's `rare` dict from its first write, else reads
    as its default, so a queued task has one slot for all of them to set, walk in GC and free.
    Reads and writes cost a Python call: keep fields read on every task's path out of here."""

    __slots__ = ("name", "default", "derived")

    def __init__(self, default: Any = None, derived: Any = None) -> None:
        self.default = default
        self.derived = derived  # a function of the task giving the default, if any

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, task: Any, owner: type | None = None) -> Any:
        if task is None:
            return self
        rare = task.rare
        if rare is not None and self.name in rare:
            return rare[self.name]
        return self.default if self.derived is None else self.derived(task)

    def __set__(self, task: Any, value: Any) -> None:
        rare = task.rare
        if rare is None:
            task.rare = rare = {}
        rare[self.name] = value


class Task(Unit):
    """One remote function call, through all its attempts."""

    __slots__ = (
        "task_id",
        "fn",
        "args",
        "opts",
        # What it returns: the ref of its one return (the commonest call, kept without a
        # tuple around it, which GC would walk while it is queued), else a list of refs (several
        # returns or none); () once it ended on the fast path. Read it as a sequence: `returns`.
        "ret",
        "node",
        "gpu_shares",
        "pool",
        "state",
        "cpu_released",
        "parent",
        # When it ran, for the state API: None until it starts, then the virtual time it
        # (last) started; and None until it ends, then the virtual time it ended. Two floats,
        # not a (start, end) tuple made at every end and freed with every row at shutdown.
        "ran",
        "ended",
        "rare",  # None, or the `RareField`s it has set (below)
    )

    # `Task()` only allocates, with object's `__init__` (not Unit's), the cheapest way to make
    # an instance: `make_task` sets every field, once per submitted call.
    __init__ = object.__init__

    task_id: int
    args: Any  # plain arguments (immutable scalars, passed as they are): a tuple; else a list
    ret: Any  # objects.SimRef | list[objects.SimRef] | tuple[()]
    node: Any
    gpu_shares: Sequence[tuple[int, int]]
    pool: Any  # the NodeResources it took its resources from (node or bundle)
    ran: float | None
    ended: float | None
    rare: dict[str, Any] | None

    kwargs = RareField(NO_KWARGS)  # Mapping[str, Any]
    retries_left = RareField(derived=lambda task: task.opts.max_retries)  # int
    attempt = RareField(0)  # int: retries so far
    cancelled = RareField(False)  # bool
    deps_left = RareField(0)  # int: arguments still pending
    children = RareField()  # dict[Task, None] | None: insertion-ordered, O(1) removal

    @property
    def name(self) -> str:
        return self.opts.name

    @property
    def returns(self) -> Sequence[Any]:
        """Its return refs in order (one ref for the commonest call), or () once it ended on
        the fast path. Hot paths read `ret` itself."""
        ret = self.ret
        return (ret,) if type(ret) is objects.SimRef else ret

    @property
    def demand(self) -> dict[str, int]:
        """What it holds while it runs (its options' demand, never changed per task)."""
        return self.opts.demand

    @property
    def strategy(self) -> Any:
        """Its scheduling strategy (None: Ray's default hybrid policy)."""
        return self.opts.strategy

    @property
    def sched_key(self) -> Any:
        """Its scheduling class: tasks of one class queue FIFO behind each other."""
        return self.opts.sched_key

    @property
    def plain_args(self) -> bool:
        """Whether its arguments are immutable scalars only, passed as they are."""
        return type(self.args) is tuple

    @property
    def env_vars(self) -> dict[str, str] | None:
        """Its runtime_env env_vars (the job's, its parent's and its own, merged), or None."""
        env = self.env
        return env.vars if type(env) is UnitEnv else None

    @property
    def started_at(self) -> float | None:
        """The virtual time it (last) started, or None if it has not."""
        return self.ran

    @property
    def ended_at(self) -> float | None:
        """The virtual time it ended, or None while it has not."""
        return self.ended

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


def make_task(task_id: int, fn: Any, args: tuple[Any, ...] | list[Any], opts: Any) -> Task:
    """A task with every field set and its one return pending, as the commonest call has them
    (a driver's, no keyword arguments, queued at once), which `SimBackend.submit_task` writes
    out (keep the two alike); `_submit_general` then sets `kwargs`, `parent`, `state` and, for
    several returns or none, `ret`. `args` is a tuple
    of plain arguments or a list of packed ones. No parameter has a default: filling defaults
    costs ~100 instructions a call."""
    task = Task()
    task.glet = None
    task.blocked_on = None
    task.wake_token = 0
    task.env = None
    task.interrupt = False
    task.loop = None
    task.task_id = task_id
    task.fn = fn
    task.args = args
    task.opts = opts
    task.node = None
    task.gpu_shares = NO_GPU_SHARES
    task.pool = None
    task.state = QUEUED
    task.cpu_released = False
    task.parent = None
    task.ran = None
    task.ended = None
    task.rare = None
    task.ret = objects.new_ref(task_id, task)  # numbered as the task (`_ids.object_number`)
    return task


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


class SubmitTimes:
    """The virtual time each task was submitted, in 16 bytes per distinct instant, not 8 per task.

    Task ids grow with submission and the virtual clock never goes back, so a task's
    submission time is a step function of its id: kept as the first id submitted at each new
    instant (`ids`) and that instant (`times`). Submitting is one comparison (`note`)."""

    __slots__ = ("ids", "times", "last", "limit")

    def __init__(self, limit: float) -> None:
        self.ids = array("q")
        self.times = array("d")
        self.last = -1.0  # the instant of the last step (no task is submitted before 0)
        self.limit = limit  # `forget_before` is worth it past this many steps

    def note(self, task_id: int, now: float) -> None:
        """Task `task_id` is submitted at `now`; call it when `now != self.last`."""
        self.ids.append(task_id)
        self.times.append(now)
        self.last = now

    def of(self, task_id: int) -> float:
        """When task `task_id` was submitted (any id noted or after the first step)."""
        return self.times[bisect_right(self.ids, task_id) - 1]

    def forget_before(self, task_id: int) -> None:
        """Drop the steps that only ids below `task_id` need (their rows are gone)."""
        keep = max(bisect_right(self.ids, task_id) - 1, 0)
        if keep:
            del self.ids[:keep]
            del self.times[:keep]
        self.limit = max(self.limit, 2 * len(self.ids))
