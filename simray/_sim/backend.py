"""The `sim` backend: Ray's task API on the discrete-event kernel, in virtual time.

It owns the session's kernel, cluster, object refs and trace, and implements the backend
interface that the api layer calls (`submit_task`, `get`, `wait`, `put`, `cancel`, ...).
This module holds the session's set-up and a task's way from submission to its start (the
hot path's first half); the other concepts are mixed in from their own modules: how a task
runs and ends (`task_ends`, the hot path's second half), the object API (`object_api`), nodes
(`cluster`), generators (`generators`), export (`export`), the state API's task table
(`task_table`), `os.environ` per unit (`environ`), placement groups (`placement_groups`),
cancel (`cancel`), the runtime context (`context`) and the session's end (`shutdown`).
"""

from __future__ import annotations

import copy
import gc
import os
import random
from collections import deque
from collections.abc import Sequence
from typing import Any

from simray import _ids
from simray import exceptions as exc
from simray._args import ArgPacker
from simray._ids import INDEX_SHIFT, IdAllocator
from simray._model.resources import NO_GPU_SHARES, check_node_resources, to_floats
from simray._model.returns import (
    raise_if_dependency_failed,
)
from simray._options import SchedulingClass
from simray._output import env_bool
from simray._runtime_env import UnitEnv, env_vars_of, merged
from simray._session import drain_grace
from simray._sim import deadlock, exploration, latency
from simray._sim.actors import ActorCall, ActorExit, ActorLoop, Actors
from simray._sim.cancel import Cancel
from simray._sim.cluster import Cluster
from simray._sim.context import Context
from simray._sim.environ import CUDA, Environ
from simray._sim.errors import DRIVER_IP, SIM_PID
from simray._sim.export import Exports
from simray._sim.faults import Faults
from simray._sim.filelock import SimFileLocks
from simray._sim.generators import Generators
from simray._sim.kernel import Kernel, Unit
from simray._sim.livelock import Watchdog
from simray._sim.livelock import resolve_seconds as livelock_seconds
from simray._sim.monitor import SimMonitor
from simray._sim.object_api import ObjectAPI
from simray._sim.objects import (
    ATOMIC,
    FAILED,
    PENDING,
    READY,
    SimRef,
    new_ref,
    new_session_epoch,
    owner_node,
    pack,
    set_process_key,
)
from simray._sim.output import WorkerOutput
from simray._sim.placement_groups import PlacementGroupAPI, PlacementGroups
from simray._sim.scheduler import DEFAULT_MEMORY, DEFAULT_OBJECT_STORE_MEMORY, Scheduler, SimNode
from simray._sim.shutdown import Shutdown
from simray._sim.task_cap import task_table_cap
from simray._sim.task_ends import TaskEnds
from simray._sim.task_table import TaskTable
from simray._sim.tasks import (
    NO_KWARGS,
    QUEUED,
    RUNNING,
    WAITING_DEPS,
    SubmitTimes,
    Task,
    make_task,
)
from simray._sim.trace import Trace, TraceRecorder
from simray._sim.vtime import VirtualTime
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

GC_THRESHOLDS = (50_000, 100, 10)  # the session's (young, middle, old); see __init__
DEFAULT_NUM_CPUS = 8  # a bare init() on sim: fixed, never read from the host


def plain_args(args: Sequence[Any]) -> bool:
    """Whether every argument is an immutable scalar (passed as it is, nothing to copy)."""
    for a in args:
        if type(a) not in ATOMIC:
            return False
    return True


class SimBackend(
    ObjectAPI,
    Cluster,
    Generators,
    Exports,
    TaskTable,
    Environ,
    PlacementGroupAPI,
    Cancel,
    Context,
    Shutdown,
    TaskEnds,
):
    """One sim session: created by `init`, ended by `shutdown`."""

    name = "sim"
    autoscaler: Any = None  # the SimAutoscaler, when the session runs with a cluster spec

    def __init__(
        self,
        *,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
        resources: dict[str, float] | None = None,
        object_store_memory: float | None = None,
        labels: dict[str, str] | None = None,
        node_specs: Sequence[dict[str, Any]] | None = None,
        seed: int | None = None,
        trace_path: str | None = None,
        namespace: str | None = None,
        explore: bool | None = None,
        jitter: float | None = None,
        _latency: Any = None,
        _livelock_seconds: float | None = None,
        runtime_env: dict[str, Any] | None = None,
        log_to_driver: bool | None = None,
    ):
        # What remote operations cost in virtual time (`_sim.latency`); None when all are free.
        self.latency = latency.resolve(_latency)
        if seed is None:
            text = os.environ.get("SIMRAY_SEED", "0")
            try:
                seed = int(text)
            except ValueError:
                raise ValueError(f"SIMRAY_SEED must be an integer, got {text!r}") from None
        self.seed = seed
        self.namespace = namespace or "anonymous"
        self.runtime_env: dict[str, Any] = dict(runtime_env or {})
        self.job_env_vars = env_vars_of(runtime_env)
        self._saved_environ: dict[str, str | None] = {}  # values before any env_vars were set
        self.rng = random.Random(seed)
        self.epoch = new_session_epoch()  # this session's refs, apart from earlier sessions'
        self.kernel = Kernel(on_stall=self._explain_stall)
        self.jitter = exploration.configure(self, seed, explore, jitter)
        self.kernel.on_switch_in = self.switch_in
        set_process_key(self._process_key)  # whose register_serializer applies when packing
        self.scheduler = Scheduler(self.rng, self._start_task, lambda: self.kernel.now)
        self.scheduler.on_unschedulable = self._unschedulable
        self.task_runner = self._run_task  # bound once: it is handed over for every task
        trace_path = trace_path or os.environ.get("SIMRAY_TRACE") or None
        self.trace: Trace | None = Trace() if trace_path else None
        self.trace_path = trace_path if isinstance(trace_path, str) else None
        self.recorder = TraceRecorder(self.trace, lambda: self.kernel.now)
        # Nothing that the commonest submission would have to honour (see `submit_task`).
        self.plain_session = (
            self.trace is None and self.latency is None and self.job_env_vars is None
        )
        # Who may submit on the fast path: the driver in a plain session, else no unit.
        self.fast_submitter: Any = self.kernel.driver if self.plain_session else object()
        if self.latency is not None:
            # Trace format 2: a trace recorded with the latency model on starts with the model,
            # so a replay can run under it; a trace without this record was recorded under the
            # zero-cost model (format 1, before the model existed).
            self.recorder.record("latency", **self.latency.as_dict())
        self.ids = IdAllocator()
        _ids.activate(self.epoch, _ids.SimIds(seed))  # Ray's byte ids, derived when asked
        self.pack_arg = ArgPacker(pack, SimRef, self.adopt)
        self.running: dict[int, Task] = {}
        self.streams: dict[int, Any] = {}  # task or call id -> Stream (streaming generators)
        self.generating: dict[int, str] = {}  # task or call id -> "streaming" | "dynamic"
        # Every task and actor call of the session, for `ray.util.state`: the live unit while it
        # runs or waits, a snapshot (dict) once it ends, so ended units hold no values.
        self.task_table: dict[int, Any] = {}
        # Ray's GCS keeps at most RAY_task_events_max_num_task_in_gcs tasks, evicting the
        # oldest finished first; ids of finished rows, oldest first (see `trim_task_table`).
        self.task_table_cap = task_table_cap()
        self.task_order_limit = 2 * self.task_table_cap  # compacted past this (trim_task_table)
        self.submit_times = SubmitTimes(self.task_order_limit)  # when each task was submitted
        self.finished_order: deque[int] = deque()
        # Ray's next tiers, each in submission order: actor calls, then tasks (running, queued
        # or failed); may hold ids already gone, skipped when met and compacted now and then.
        self.actor_order: deque[int] = deque()
        self.task_order: deque[int] = deque()
        self.locks = SimFileLocks(self.kernel)
        self.actors = Actors(self)
        self.pgs = PlacementGroups(self)
        self.faults = Faults(self)
        self.scheduler.pgs = self.pgs
        self.clock = VirtualTime(self.kernel)
        self._driver_cuda = os.environ.get(CUDA)
        self.kernel.env_now = self._driver_cuda
        self.kernel.driver.env = self._driver_cuda
        if node_specs is None:
            check_node_resources(
                num_cpus,
                num_gpus,
                resources,
                object_store_memory,
                DEFAULT_MEMORY,
                DEFAULT_OBJECT_STORE_MEMORY,
            )
            node_specs = [
                {
                    "num_cpus": DEFAULT_NUM_CPUS if num_cpus is None else num_cpus,
                    "num_gpus": num_gpus or 0,
                    "resources": resources,
                    "object_store_memory": object_store_memory,
                    "labels": labels,
                }
            ]
        for spec in node_specs:
            self.add_node(**spec)
        # Settings are read (and refused) before the clock is installed: a failed init must
        # leave the host's time module as it found it.
        self.drain_grace = drain_grace()
        self.watchdog = Watchdog(self.kernel, livelock_seconds(_livelock_seconds))
        self.clock.install()
        self.exported: dict[Any, Any] = {}  # remote functions and actor classes, exported
        self.watchdog.start()
        self.locks.install()
        self.faults.install()
        # What tasks and actors print reaches the driver prefixed `(name pid=N)`, as on Ray.
        if log_to_driver is None:
            log_to_driver = env_bool("RAY_LOG_TO_DRIVER", True)
        self.output = WorkerOutput(self, bool(log_to_driver))
        self.output.install()
        # Ray's monitor reports infeasible demand on the driver's stdout (`_sim.monitor`).
        self.monitor = SimMonitor(self)
        self.scheduler.on_infeasible = self.monitor.wake
        self.pgs.on_infeasible = self.monitor.wake
        self.actors.atexit_hook.install()
        # The simulator allocates many small objects that live for one task; collecting the
        # youngest generation every 700 allocations costs a third of the run, so the session
        # raises that threshold and puts it back at shutdown. It also collects the middle
        # generation every 100 young collections (5M net allocations), not 10: queued tasks
        # survive their young collection, and walking them again there was 60% of the GC time
        # of 1M queued tasks (none of it at 100k).
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)

    def _process_key(self) -> Any:
        """The simulated process the current unit runs in: None for the driver, the actor for
        its calls (one worker process for the actor's life), else the task."""
        unit = self.kernel.current
        if unit is self.kernel.driver:
            return None
        actor = getattr(unit, "actor", None)
        if actor is not None:
            return ("actor", actor.actor_id)
        return ("task", getattr(unit, "task_id", id(unit)))

    # -- tasks ------------------------------------------------------------------------------
    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any) -> Any:
        """Submit one call; return its ref, list of refs, or None (num_returns=0).

        The commonest call is submitted here, with what it does not need left out: `simple`
        options (one return, default strategy, no generator or env_vars), immutable scalar
        arguments only, a call from the driver (no child bookkeeping, group capture or owner
        on a worker), and a session without a trace, latency model or job env_vars
        (`plain_session`; both checked at once as `fast_submitter`). Everything else takes the
        general path, `_submit_general`.
        """
        # Export first, on every path (the fast one too): globals are captured at first .remote().
        try:
            fn = self.exported[fn]
        except KeyError:
            fn = self.export(fn)
        kernel = self.kernel
        if (
            kernel.current is not self.fast_submitter
            or not opts.simple
            or kwargs
            # one argument is the commonest call, checked without a loop
            or not (type(args[0]) in ATOMIC if len(args) == 1 else plain_args(args))
        ):
            return self._submit_general(fn, args, kwargs, opts)
        ids = self.ids
        task_id = ids.task = ids.task + 1
        # `make_task(task_id, fn, args, opts)` written out, as a call costs ~600 instructions
        # a task (tests/test_submit_paths.py checks that the two make the same task).
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
        ref = SimRef()
        ref._id = task_id  # its one return is numbered as the task
        ref.state = PENDING
        ref.stored = None
        ref.callbacks = None
        ref.task = task
        ref.lineage = None
        ref.owner = None
        ref.epoch = self.epoch
        task.ret = ref
        now = kernel.now
        if now != self.submit_times.last:
            self.submit_times.note(task_id, now)
        table = self.task_table
        table[task_id] = task
        self.task_order.append(task_id)
        # Only the table's size is checked: rows leave it only through `trim_task_table`, which
        # keeps it at its cap and compacts the order tiers, so the task tier can outgrow its
        # limit only while the table is over its cap.
        if len(table) > self.task_table_cap:
            self.trim_task_table()
        queue = self.scheduler.queues.get(opts.sched_key)
        if queue is not None:  # its class already waits: it queues behind (Scheduler.submit)
            queue.append(task)
        else:
            self.scheduler.submit(task)
        return ref

    def _submit_general(
        self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        """`submit_task` for any call (its closures make cells on every call, so the fast path
        is chosen before it)."""
        if opts.submit_error:
            raise ValueError(opts.submit_error)
        task_id = self.ids.new_task()
        parent = self.kernel.current
        # Arguments are copied now, as Ray serializes them at submission; top-level refs are
        # kept to be resolved, and a call with only immutable scalars skips all of it.
        plain = not kwargs and plain_args(args)
        if plain:
            args = tuple(args)  # plain arguments are a tuple (packed ones a list)
            kwargs = NO_KWARGS  # shared: a queued task keeps no empty dict of its own
        else:
            args = [a if type(a) in ATOMIC else self.pack_arg(a, opts.name) for a in args]
            if kwargs:
                kwargs = {k: self.pack_arg(v, opts.name) for k, v in kwargs.items()}
            else:
                kwargs = NO_KWARGS
        parent_task = parent if type(parent) is Task else None
        task = make_task(task_id, fn, args, opts)
        if kwargs:
            task.kwargs = kwargs
        task.parent = parent_task
        task.state = WAITING_DEPS
        now = self.kernel.now
        if now != self.submit_times.last:
            self.submit_times.note(task_id, now)
        if parent_task is not None:
            inherited = parent_task.strategy
            if (
                opts.strategy is None
                and isinstance(inherited, PlacementGroupSchedulingStrategy)
                and inherited.placement_group_capture_child_tasks
            ):
                # A child of a capturing group task runs in the same group (any bundle).
                task.opts = captured = copy.copy(opts)
                captured.strategy = PlacementGroupSchedulingStrategy(
                    inherited.placement_group, -1, True
                )
                captured.sched_key = SchedulingClass.of(
                    opts.sched_key.demand, ("pg", id(inherited.placement_group))
                )
                captured.simple = False  # not the default strategy: no fast path
            if parent_task.children is None:
                parent_task.children = {}
            parent_task.children[task] = None
        n = opts.num_returns
        # A task's returns are numbered after it (see `_ids.object_number`).
        returns: Any = task.returns  # its one return, made with it
        if n != 1:
            task.ret = returns = [new_ref(task_id | (i << INDEX_SHIFT), task) for i in range(n)]
        if parent is not self.kernel.driver:  # a task made these refs: Ray's owner is that worker
            for ref in returns:
                ref.owner = owner_node(parent)
        table = self.task_table
        table[task_id] = task
        if getattr(opts, "actor", None) is None:
            self.task_order.append(task_id)
        else:  # an actor's creation task: Ray's actor tier
            self.actor_order.append(task_id)
        if len(table) > self.task_table_cap or len(self.task_order) > 2 * self.task_table_cap:
            self.trim_task_table()
        if self.job_env_vars is not None or opts.env_vars is not None:
            inherited = self.job_env_vars
            penv = getattr(parent, "env", None)
            if type(penv) is UnitEnv:
                inherited = penv.vars
            task.env = UnitEnv(None, merged(inherited, opts.env_vars))  # devices set at start
        if self.trace is not None:
            self.recorder.record(
                "submit", task=task.task_id, name=task.name, demand=to_floats(task.demand)
            )
        generator = None
        if opts.generator is not None:
            generator = self.start_stream(task, opts.generator, opts.raw)
            if generator is not None:
                generator._generator_ref = returns[0]
        if self.latency is not None:
            self.kernel.call_at(self.kernel.now + self.latency.task, self._arrive, task)
        elif plain:
            task.state = QUEUED
            self.scheduler.submit(task)
        else:
            self.submit_when_ready(task)
        if generator is not None:
            return generator
        if n == 1:
            return returns[0]
        return returns if n else None

    def _arrive(self, task: Task) -> None:
        """A submitted task reaches the scheduler, its submission latency paid."""
        if task.state != WAITING_DEPS:
            return  # cancelled on the way (`cancel_task` finishes a task waiting to arrive)
        if task.plain_args:
            task.state = QUEUED
            self.scheduler.submit(task)
        else:
            self.submit_when_ready(task)

    def submit_when_ready(self, task: Task) -> None:
        """Queue `task` once its top-level ref arguments resolve (at once if they have)."""
        deps = [a for a in task.args if type(a) is SimRef]
        if task.kwargs:
            deps += [v for v in task.kwargs.values() if type(v) is SimRef]
        pending = [d for d in deps if d.state != READY]
        task.state = WAITING_DEPS
        if pending:
            task.deps_left = len(pending)
            resolved = self.dep_resolved if not self.jitter else exploration.transfer_later(self)
            for dep in pending:
                dep.on_ready(lambda ref, task=task, resolved=resolved: resolved(task, ref))
        else:
            task.state = QUEUED
            self.scheduler.submit(task)

    def dep_resolved(self, task: Task, ref: SimRef) -> None:
        if task.state != WAITING_DEPS:
            return
        if ref.state == FAILED:
            try:
                raise_if_dependency_failed(ref.stored)
            except BaseException as error:
                self.finish_task(
                    task,
                    FAILED,
                    exc._make_task_error(task.name, error, pid=SIM_PID, ip=DRIVER_IP),
                )
            return
        task.deps_left -= 1
        if task.deps_left == 0:
            task.state = QUEUED
            self.scheduler.submit(task)

    def _start_task(self, task: Task, node: SimNode, here: bool = False) -> None:
        task.node = node
        task.state = RUNNING
        task.ran = self.kernel.now
        env = task.env  # a UnitEnv from submission (or the last attempt) carries its env_vars
        task.env = ",".join(map(str, task.gpu_ids())) if task.gpu_shares else self._driver_cuda
        if type(env) is UnitEnv:
            task.env = UnitEnv(task.env, env.vars)
        self.running[task.task_id] = task
        if self.trace is not None:
            self.recorder.record("start", task=task.task_id, node=node.index, attempt=task.attempt)
        if self.faults.on_start:
            self.faults.task_started(task)
        if self.jitter:
            exploration.start_later(self, task, node)
        elif here:
            self.kernel.handoff = (task, self.task_runner)
        else:
            self.kernel.spawn(task, self.task_runner)

    def _unschedulable(self, task: Task, error: BaseException) -> None:
        self.finish_task(task, FAILED, error)

    # -- switching in and blocking ------------------------------------------------------------
    def switch_in(self, unit: Unit) -> None:
        """A unit resumes: give it its CUDA_VISIBLE_DEVICES, and raise a due interrupt."""
        env = unit.env
        kernel = self.kernel
        if env is not kernel.env_now and (type(env) is UnitEnv or type(kernel.env_now) is UnitEnv):
            self._switch_env(env)
        elif env is not kernel.env_now:
            if env != kernel.env_now:
                if env is None:
                    os.environ.pop(CUDA, None)
                else:
                    os.environ[CUDA] = env
            kernel.env_now = env
        if unit.interrupt:
            unit.interrupt = False
            raise KeyboardInterrupt

    def _explain_stall(self) -> BaseException:
        return exc.DeadlockError(deadlock.explain(self))

    # -- actors --------------------------------------------------------------------------------
    def create_actor(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        return self.actors.create(cls, args, kwargs, opts)

    def submit_actor_task(
        self,
        actor: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        return self.actors.submit(actor, method, args, kwargs, num_returns, concurrency_group)

    def kill(self, handle: Any, no_restart: bool) -> None:
        self.actors.kill(handle._actor, no_restart)

    def exit_actor(self) -> None:
        """`ray.actor.exit_actor()`: end the calling actor (raises in the calling method)."""
        unit = self.kernel.current
        if type(unit) is ActorLoop:
            raise exc.AsyncioActorExit()
        if type(unit) is ActorCall:
            raise ActorExit(0)
        mode = 1 if type(unit) is Task else 0
        raise TypeError(
            f"exit_actor API is called on a non-actor worker, {mode}. Call this API inside an "
            "actor methodsif you'd like to exit the actor gracefully."
        )

    def get_actor(self, name: str, namespace: str | None) -> Any:
        return self.actors.get_named(name, namespace)

    def list_named_actors(self, all_namespaces: bool) -> list[Any]:
        return self.actors.list_named(all_namespaces)
