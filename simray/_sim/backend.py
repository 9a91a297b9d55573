"""The `sim` backend: Ray's task API on the discrete-event kernel, in virtual time.

It owns the session's kernel, cluster, object refs and trace, and implements the backend
interface that the api layer calls (`submit_task`, `get`, `wait`, `put`, `cancel`, ...).
"""

from __future__ import annotations

import gc
import os
import random
import sys
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from greenlet import GreenletExit

from simray import exceptions as exc
from simray._args import ArgPacker
from simray._ids import IdAllocator
from simray._model.resources import NO_GPU_SHARES, UNIT, check_node_resources
from simray._model.returns import retries_exception, retry_notice, split_returns
from simray._output import env_bool
from simray._ray_ids import worker_id_hex
from simray._runtime_env import UnitEnv, env_vars_of, merged
from simray._session import drain_grace
from simray._sim import deadlock, exploration, latency
from simray._sim.actors import ActorCall, ActorExit, ActorLoop, Actors, EndedCall
from simray._sim.faults import Faults
from simray._sim.filelock import SimFileLocks
from simray._sim.kernel import Kernel, Unit, WorkerExit
from simray._sim.livelock import LivelockInterrupt, Watchdog
from simray._sim.livelock import resolve_seconds as livelock_seconds
from simray._sim.object_api import ObjectAPI
from simray._sim.objects import (
    ATOMIC,
    FAILED,
    PENDING,
    READY,
    SimRef,
    new_session_epoch,
    owner_node,
    pack,
    set_process_key,
    unpack,
)
from simray._sim.output import WorkerOutput
from simray._sim.placement_groups import PlacementGroups
from simray._sim.scheduler import (
    DEFAULT_MEMORY,
    DEFAULT_OBJECT_STORE_MEMORY,
    Scheduler,
    SimNode,
    node_total,
)
from simray._sim.state import task_table_cap
from simray._sim.tasks import FINISHED, QUEUED, RUNNING, WAITING_DEPS, EndedTask, Task
from simray._sim.trace import Trace, TraceRecorder
from simray._sim.vtime import VirtualTime
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

GC_THRESHOLDS = (50_000, 10, 10)
DEFAULT_NUM_CPUS = 8  # a bare init() on sim: fixed, never read from the host
_CUDA = "CUDA_VISIBLE_DEVICES"
_SIM_PID = 4242
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})  # the keyword arguments of most calls
_DRIVER_IP = "127.0.0.1"


class SimBackend(ObjectAPI):
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
        self.kernel.on_switch_in = self._switch_in
        set_process_key(self._process_key)  # whose register_serializer applies when packing
        self.scheduler = Scheduler(self.rng, self._start_task, lambda: self.kernel.now)
        self.scheduler.on_unschedulable = self._unschedulable
        self._run_task_fn = self._run_task  # bound once: it is handed over for every task
        trace_path = trace_path or os.environ.get("SIMRAY_TRACE") or None
        self.trace: Trace | None = Trace() if trace_path else None
        self.trace_path = trace_path if isinstance(trace_path, str) else None
        self.recorder = TraceRecorder(self.trace, lambda: self.kernel.now)
        # Nothing that the commonest submission would have to honour (see `_submit_simple`).
        self.plain_session = (
            self.trace is None and self.latency is None and self.job_env_vars is None
        )
        if self.latency is not None:
            # Trace format 2: a trace recorded with the latency model on starts with the model,
            # so a replay can run under it; a trace without this record was recorded under the
            # zero-cost model (format 1, before the model existed).
            self.recorder.record("latency", **self.latency.as_dict())
        self.ids = IdAllocator()
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
        self._driver_cuda = os.environ.get(_CUDA)
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
        self.actors.install_atexit()
        # The simulator allocates many small objects that live for one task; collecting the
        # youngest generation every 700 allocations costs a third of the run, so the session
        # raises that threshold and puts it back at shutdown.
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)

    # -- cluster ----------------------------------------------------------------------------
    def add_node(
        self,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: dict[str, float] | None = None,
        memory: float | None = None,
        object_store_memory: float | None = None,
        labels: dict[str, str] | None = None,
        accelerator_type: str | None = None,
    ) -> SimNode:
        """Add a node now (before or during a run); pending work may start on it at once."""
        index = len(self.scheduler.all_nodes)
        is_head = index == 0
        resources = dict(resources or {})
        labels = dict(labels or {})
        if accelerator_type is not None:
            resources[f"accelerator_type:{accelerator_type}"] = 1
            labels["ray.io/accelerator-type"] = accelerator_type
        ip = f"127.0.0.{index + 1}"
        total = node_total(num_cpus, num_gpus, resources, memory, object_store_memory, ip, is_head)
        node = SimNode(index, total, labels, is_head, self.seed)
        node.started_at = self.kernel.now
        self.recorder.record("node_added", node=node.index, resources=_floats(total))
        self.scheduler.add_node(node)
        return node

    def enable_autoscaler(self, spec: Any) -> Any:
        """Run Ray's autoscaler for `spec` (a ClusterSpec) on this session (`_sim.autoscaling`)."""
        from simray._sim.autoscaling import install

        return install(self, spec)

    def remove_node(self, node_id: str) -> None:
        """The node dies now: its tasks fail or retry, its actors die or restart, objects only
        it held are rebuilt or lost (see `_sim.faults`)."""
        self.faults.kill_node(self._node_by_id(node_id))

    def _node_by_id(self, node_id: str) -> SimNode:
        for node in self.scheduler.all_nodes:
            if node.node_id == node_id:
                return node
        raise ValueError(f"no node with id {node_id!r} in this sim cluster")

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
        """Submit one call; return its ref, list of refs, or None (num_returns=0)."""
        # Export first, on every path (the fast one too): globals are captured at first .remote().
        exported = self.exported.get(fn)
        fn = self.export(fn) if exported is None else exported
        if opts.simple and not kwargs and self.plain_session:
            for a in args:
                if type(a) not in ATOMIC:
                    break
            else:
                if type(self.kernel.current) is not Task:
                    return self._submit_simple(fn, args, opts)
        if opts.submit_error:
            raise ValueError(opts.submit_error)
        task_id = self.ids.new_task()
        parent = self.kernel.current
        # Arguments are copied now, as Ray serializes them at submission; top-level refs are
        # kept to be resolved, and a call with only immutable scalars skips all of it.
        plain = not kwargs
        if plain:
            for a in args:
                if type(a) not in ATOMIC:
                    plain = False
                    break
        if plain:
            kwargs = NO_KWARGS  # shared: a queued task keeps no empty dict of its own
        else:
            args = [a if type(a) in ATOMIC else self.pack_arg(a, opts.name) for a in args]
            if kwargs:
                kwargs = {k: self.pack_arg(v, opts.name) for k, v in kwargs.items()}
            else:
                kwargs = NO_KWARGS
        parent_task = parent if type(parent) is Task else None
        task = Task(task_id, fn, args, kwargs, opts, parent_task, plain)
        task.created_at = self.kernel.now
        if parent_task is not None:
            inherited = parent_task.strategy
            if (
                opts.strategy is None
                and isinstance(inherited, PlacementGroupSchedulingStrategy)
                and inherited.placement_group_capture_child_tasks
            ):
                # A child of a capturing group task runs in the same group (any bundle).
                task.strategy = PlacementGroupSchedulingStrategy(
                    inherited.placement_group, -1, True
                )
                task.sched_key = (opts.sched_key[0], ("pg", id(inherited.placement_group)))
            if parent_task.children is None:
                parent_task.children = {}
            parent_task.children[task] = None
        n = opts.num_returns
        if n == 1:
            returns: Any = (SimRef(self.ids.new_object(), task),)
        else:
            new_object = self.ids.new_object
            returns = [SimRef(new_object(), task) for _ in range(n)]
        task.returns = returns
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
            task.env_vars = merged(inherited, opts.env_vars)
        if self.trace is not None:
            self.recorder.record(
                "submit", task=task.task_id, name=task.name, demand=_floats(task.demand)
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

    def _submit_simple(self, fn: Any, args: tuple[Any, ...], opts: Any) -> SimRef:
        """`submit_task` for the commonest call, with what it does not need left out.

        Applies when the options are `simple` (one return, default strategy, no generator or
        env_vars), the arguments are immutable scalars only, the caller is not a task (no child
        bookkeeping or group capture), and the session has no trace, latency model or job
        env_vars (`plain_session`). Everything else takes `submit_task`'s general path.
        """
        ids = self.ids
        ids.task += 1
        task_id = ids.task
        task = Task(task_id, fn, args, NO_KWARGS, opts, None, True)
        task.created_at = self.kernel.now
        ids.object += 1
        ref = SimRef(ids.object, task)
        task.returns = (ref,)
        table = self.task_table
        table[task_id] = task
        order = self.task_order
        order.append(task_id)
        if len(table) > self.task_table_cap or len(order) > self.task_order_limit:
            self.trim_task_table()
        task.state = QUEUED
        queue = self.scheduler.queues.get(opts.sched_key)
        if queue is not None:  # its class already waits: it queues behind (Scheduler.submit)
            queue.append(task)
        else:
            self.scheduler.submit(task)
        return ref

    # -- generator tasks and calls -----------------------------------------------------------
    def start_stream(self, unit: Any, mode: str, raw: dict[str, Any]) -> Any:
        """Register a generator task or call (`mode` "streaming" or "dynamic"); for streaming,
        the ObjectRefGenerator its caller gets (its completion ref set by the caller)."""
        key = unit.task_id if type(unit) is Task else unit.call_id
        self.generating[key] = mode
        if mode != "streaming":
            return None
        from simray._generator import ObjectRefGenerator, Stream

        backpressure = raw.get("_generator_backpressure_num_objects")
        stream = self.streams[key] = Stream(_internal_ref, backpressure)
        return ObjectRefGenerator(stream, None, self)

    def end_stream(self, key: int) -> None:
        """The generator task or call ended (any way): its stream ends."""
        self.generating.pop(key, None)
        stream = self.streams.pop(key, None)
        if stream is not None:
            stream.done = True
            stream.changed()

    def _stored_yield(self, unit: Any, value: Any, key: int, collected: list[Any]) -> Any:
        ref = SimRef(self.ids.new_object())
        try:
            ref.resolve(READY, pack(value))
        except Exception as e:
            raise TypeError(
                f"Could not serialize a value yielded by {_unit_name(unit)}: {e}"
            ) from e
        stream = self.streams.get(key)
        if stream is None:
            collected.append(ref)
            return None
        stream.items.append(ref)
        stream.changed()
        return stream

    def _drive_generator(self, unit: Any, gen: Any) -> Any:
        """Run a generator's body: each `yield` stores a value at that virtual instant
        (streaming: appended to the stream, the producer waiting while the backpressure limit
        of refs is unread; dynamic: collected into the one value)."""
        key = unit.task_id if type(unit) is Task else unit.call_id
        if not hasattr(gen, "__next__"):
            raise TypeError(
                f"{_unit_name(unit)} was declared with num_returns="
                f"{self.generating.get(key)!r} but returned {type(gen).__name__}, not a "
                "generator; use `yield` in the function"
            )
        collected: list[Any] = []
        for value in gen:
            stream = self._stored_yield(unit, value, key, collected)
            while (
                stream is not None
                and stream.backpressure
                and (stream.unread() >= stream.backpressure)
            ):
                stream.producer = unit
                self.kernel.block(("objects", [stream.signal()]))
        return self._generator_result(key, collected)

    async def _drive_async_generator(self, unit: Any, gen: Any) -> Any:
        """`_drive_generator` for an async generator method of an async actor (no backpressure:
        the actor's event loop must keep running)."""
        key = unit.call_id
        if not hasattr(gen, "__anext__"):
            return self._drive_generator(unit, gen)
        collected: list[Any] = []
        async for value in gen:
            self._stored_yield(unit, value, key, collected)
        return self._generator_result(key, collected)

    def _generator_result(self, key: int, collected: list[Any]) -> Any:
        if self.generating.get(key) == "dynamic":
            from simray._generator import DynamicObjectRefGenerator

            return DynamicObjectRefGenerator(collected)
        return None

    def export(self, target: Any) -> Any:
        """What runs for a remote function or actor class: as Ray exports it at its first
        `.remote()` of the session, cloudpickled and loaded back, so the `__main__` globals it
        uses are captured then (`x = 3; r = f.remote(); x = 4` and `f` still sees 3). Code of
        importable modules is pickled by reference, as by Ray, so it is used as it is and its
        module state stays shared; a target that cannot be pickled runs as it is."""
        exported = target
        if getattr(target, "__module__", None) == "__main__" and _reads_globals(target):
            try:
                exported = unpack(pack(target))
                _keep_filenames(exported, target)
            except Exception:  # noqa: BLE001 - run the original: one interpreter, shared state
                exported = target
        self.exported[target] = exported
        return exported

    def _arrive(self, task: Task) -> None:
        """A submitted task reaches the scheduler, its submission latency paid."""
        if task.state != WAITING_DEPS or task.cancelled:
            return  # cancelled on the way
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
            resolved = self._dep_resolved if not self.jitter else exploration.transfer_later(self)
            for dep in pending:
                dep.on_ready(lambda ref, task=task, resolved=resolved: resolved(task, ref))
        else:
            task.state = QUEUED
            self.scheduler.submit(task)

    def _dep_resolved(self, task: Task, ref: SimRef) -> None:
        if task.state != WAITING_DEPS:
            return
        if ref.state == FAILED:
            try:
                raise_if_dependency_failed(ref.stored)
            except BaseException as error:
                self._finish(
                    task,
                    FAILED,
                    exc._make_task_error(task.name, error, pid=_SIM_PID, ip=_DRIVER_IP),
                )
            return
        task.deps_left -= 1
        if task.deps_left == 0:
            task.state = QUEUED
            self.scheduler.submit(task)

    def _start_task(self, task: Task, node: SimNode, here: bool = False) -> None:
        task.node = node
        task.state = RUNNING
        task.started_at = self.kernel.now
        task.env = ",".join(map(str, task.gpu_ids())) if task.gpu_shares else self._driver_cuda
        if task.env_vars is not None:
            task.env = UnitEnv(task.env, task.env_vars)
        self.running[task.task_id] = task
        if self.trace is not None:
            self.recorder.record("start", task=task.task_id, node=node.index, attempt=task.attempt)
        if self.faults.on_start:
            self.faults.task_started(task)
        if self.jitter:
            exploration.start_later(self, task, node)
        elif here:
            self.kernel.handoff = (task, self._run_task_fn)
        else:
            self.kernel.spawn(task, self._run_task_fn)

    def _run_task(self, task: Task) -> None:
        try:
            if task.env is not self.kernel.env_now or task.interrupt:
                self._switch_in(task)
            if task.plain_args:
                result = task.fn(*task.args)
            else:
                args = [unpack(a.stored) if type(a) is SimRef else unpack(a) for a in task.args]
                kwargs = {
                    k: unpack(v.stored) if type(v) is SimRef else unpack(v)
                    for k, v in task.kwargs.items()
                }
                result = task.fn(*args, **kwargs)
            if task.opts.generator is not None and task.task_id in self.generating:
                result = self._drive_generator(task, result)
        except (GreenletExit, LivelockInterrupt):
            raise
        except WorkerExit:
            self.faults.crash_task(task, "the worker process exited (os._exit)")
        except SystemExit:
            # sys.exit()/exit() in a task ends its worker process in Ray, whatever the code:
            # a system failure (retried while max_retries lasts), never the driver's exit.
            self.faults.crash_task(task, "the worker process exited (sys.exit)")
        except BaseException as e:  # the task's own failure, whatever it is, is its result
            self._task_raised(task, e)
        else:
            returns = task.returns
            if len(returns) == 1 and type(result) in ATOMIC:
                # The commonest end: one immutable scalar, stored as it is.
                node = task.node
                if (
                    task.opts.simple
                    and task.parent is None
                    and node is not None
                    and node.is_head
                    and self.trace is None
                    and not self.generating
                    and not self.locks.table
                ):
                    self._end_simple(task, result)
                    return
                returns[0].resolve(READY, result)
                self._end(task)
            else:
                self._task_returned(task, result)

    def _end_simple(self, task: Task, result: Any) -> None:
        """`_finish`, `_end` and `_hand_over_or_release` in one, for a task of `simple` options
        that returned one immutable scalar on the head node, submitted by the driver, in a
        session without a trace, streams or held file locks (`_run_task` checks). It is its own
        state-API row, with its node kept and its returns dropped so the row holds no value
        (the general path makes an `EndedTask`)."""
        task.returns[0].resolve(READY, result)
        task_id = task.task_id
        task.state = FINISHED
        task.ended_at = self.kernel.now
        if self.task_table.get(task_id) is task:
            self.finished_order.append(task_id)
        task.returns = ()
        task.args = None  # type: ignore[assignment]
        del self.running[task_id]
        node = task.node
        queues = self.scheduler.queues
        queue = queues.get(task.sched_key)
        if queue and task.strategy is None and not task.gpu_shares and not task.cpu_released:
            nxt = queue.popleft()  # its worker and resources go to the next of its class
            if not queue:
                del queues[task.sched_key]
            nxt.pool = task.pool
            if nxt.env_vars is None and not self.faults.on_start and not self.jitter:
                # `_start_task` written out for the next one: same node, no GPUs (its class
                # has none), no env_vars, fault hook, jitter or trace; its worker is this one.
                nxt.node = node
                nxt.state = RUNNING
                nxt.started_at = self.kernel.now
                nxt.env = self._driver_cuda
                self.running[nxt.task_id] = nxt
                self.kernel.handoff = (nxt, self._run_task_fn)
            else:
                self._start_task(nxt, node, here=True)
            return
        self._release(task)
        task.node = node  # the row shows where it ran
        self.scheduler.dispatch()

    def _task_returned(self, task: Task, result: Any) -> None:
        returns = task.returns
        n = len(returns)
        if n == 1 and type(result) in ATOMIC:
            returns[0].resolve(READY, result)
            self._end(task)
            return
        outputs = split_returns(result, n)
        if type(outputs) is ValueError:
            self._task_raised(task, outputs)
            return
        try:
            stored = [pack(v) for v in outputs]
        except Exception as e:
            self._task_raised(
                task,
                TypeError(f"Could not serialize the return value of {task.name}(): {e}"),
            )
            return
        for ref, value in zip(task.returns, stored, strict=True):
            ref.resolve(READY, value)
        self._end(task)

    def _task_raised(self, task: Task, error: BaseException) -> None:
        if task.cancelled and isinstance(error, KeyboardInterrupt):
            error = exc.TaskCancelledError(task.hex())
        if retries_exception(task.retry_exceptions, task.cancelled, task.retries_left, error):
            print(retry_notice(task.name, task.retries_left, error), file=sys.stderr)
            if task.retries_left > 0:
                task.retries_left -= 1
            self._release(task)
            self._retry(task)
            self.scheduler.dispatch()
            return
        pid = self.faults.pids.of(task)  # the worker's, as Ray's error text shows it
        self._finish(task, FAILED, task_error(task.name, error, task.node.ip, pid))

    def _retry(self, task: Task) -> None:
        del self.running[task.task_id]
        task.attempt += 1
        task.state = QUEUED
        self.locks.release_all(task)
        self.recorder.record("retry", task=task.task_id, attempt=task.attempt)
        self.scheduler.submit(task)

    def _release(self, task: Task) -> None:
        """Give back the task's resources, once (its CPU may be out while it is blocked)."""
        node = task.node
        if node is None:
            return
        demand = task.demand
        pool = task.pool
        if task.cpu_released:
            task.cpu_released = False
            pool.shift_cpu(-demand["CPU"])
        pool.release(demand, task.gpu_shares)
        task.gpu_shares = NO_GPU_SHARES
        task.node = None

    def _hand_over_or_release(self, task: Task) -> None:
        """At a task's end, pass its resources to the next queued task of its class on the same
        node (Ray's owner reuses a worker lease so), or give them back and dispatch."""
        node = task.node
        if node is None:
            return
        queue = self.scheduler.queues.get(task.sched_key)
        if queue and task.strategy is None and not task.gpu_shares and not task.cpu_released:
            nxt = queue.popleft()
            if not queue:
                del self.scheduler.queues[task.sched_key]
            task.node = None
            nxt.gpu_shares = NO_GPU_SHARES
            nxt.pool = task.pool
            self._start_task(nxt, node, here=self.kernel.current is task)
            return
        self._release(task)
        self.scheduler.dispatch()

    def trim_task_table(self) -> None:
        """Evict rows while the state API's table is over its cap, in Ray's GCS order: the
        oldest finished first, then the oldest actor calls, then the oldest tasks."""
        table = self.task_table
        cap = self.task_table_cap
        if len(table) > cap:
            order = self.finished_order
            while len(table) > cap and order:
                task_id = order.popleft()
                if _finished_row(table.get(task_id)):
                    del table[task_id]
            for order in (self.actor_order, self.task_order):
                while len(table) > cap and order:
                    table.pop(order.popleft(), None)  # an id already gone costs one more turn
        # Drop ids already gone or finished (kept in order), so the tiers stay O(cap).
        if len(self.actor_order) > self.task_order_limit:
            self.actor_order = self._live_ids(self.actor_order)
        if len(self.task_order) > self.task_order_limit:
            self.task_order = self._live_ids(self.task_order)

    def _live_ids(self, order: deque[int]) -> deque[int]:
        table = self.task_table
        return deque(i for i in order if i in table and not _finished_row(table[i]))

    def _finish(self, task: Task, state: int, stored: Any) -> None:
        """Resolve a task's outputs with an error or value, whatever state it was in."""
        for ref in task.returns:
            ref.resolve(state, stored)
        self._end(task)

    def _end(self, task: Task) -> None:
        task.ended_at = self.kernel.now
        if self.task_table.get(task.task_id) is task:
            # What the state API reports of it later, kept small: the row is made when asked.
            ended = self.task_table[task.task_id] = EndedTask(task)
            if ended.error is None:
                self.finished_order.append(task.task_id)
                if len(self.task_table) > self.task_table_cap:
                    self.trim_task_table()
        if self.generating:
            self.end_stream(task.task_id)
        if task.state == RUNNING:
            del self.running[task.task_id]
            if self.locks.table:
                self.locks.release_all(task)
            if self.trace is not None:
                self.recorder.record(
                    "finish",
                    task=task.task_id,
                    ok=task.returns[0].state == READY if task.returns else True,
                )
            task.state = FINISHED
            node = task.node
            if node is not None and not node.is_head and task.returns:
                # Its outputs live only on a worker node: keep the lineage to rebuild them.
                for ref in task.returns:
                    if ref.state == READY:
                        ref.lineage = task
                        self.faults.stored_on(ref, node)
            else:
                task.args = task.kwargs = None  # type: ignore[assignment]
            self._hand_over_or_release(task)
        else:
            task.state = FINISHED
            self.recorder.record("finish", task=task.task_id, ok=False)
        parent = task.parent
        if parent is not None and parent.children is not None:
            del parent.children[task]
            task.parent = None

    def _unschedulable(self, task: Task, error: BaseException) -> None:
        self._finish(task, FAILED, error)

    # -- switching in and blocking ------------------------------------------------------------
    def _switch_in(self, unit: Unit) -> None:
        """A unit resumes: give it its CUDA_VISIBLE_DEVICES, and raise a due interrupt."""
        env = unit.env
        kernel = self.kernel
        if env is not kernel.env_now and (type(env) is UnitEnv or type(kernel.env_now) is UnitEnv):
            self._switch_env(env)
        elif env is not kernel.env_now:
            if env != kernel.env_now:
                if env is None:
                    os.environ.pop(_CUDA, None)
                else:
                    os.environ[_CUDA] = env
            kernel.env_now = env
        if unit.interrupt:
            unit.interrupt = False
            raise KeyboardInterrupt

    def _switch_env(self, env: Any) -> None:
        """Swap the process environment to a unit's runtime_env env_vars (and CUDA devices)."""
        kernel = self.kernel
        now = kernel.env_now
        old_vars = now.vars if type(now) is UnitEnv else {}
        new_vars = env.vars if type(env) is UnitEnv else {}
        saved = self._saved_environ
        for key in old_vars:
            if key not in new_vars:
                original = saved.get(key)
                if original is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = original
        for key, value in new_vars.items():
            if key not in saved:
                saved[key] = os.environ.get(key)
            os.environ[key] = value
        cuda = env.cuda if type(env) is UnitEnv else env
        if cuda is None:
            os.environ.pop(_CUDA, None)
        else:
            os.environ[_CUDA] = cuda
        kernel.env_now = env

    def _explain_stall(self) -> BaseException:
        return exc.DeadlockError(deadlock.explain(self))

    # -- placement groups ----------------------------------------------------------------------
    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        return self.pgs.create(bundles, strategy, name)

    def remove_placement_group(self, record: Any) -> None:
        self.pgs.remove(record)

    def placement_group_table(self, record: Any) -> dict[str, Any]:
        return self.pgs.table(record)

    def placement_groups(self) -> list[Any]:
        return list(self.pgs.all)

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        ref = record.ready_ref
        if ref.state == PENDING and (timeout is None or timeout > 0):
            self._wait_refs([ref], 1, False, timeout)
        return ref.state == READY

    def current_placement_group(self) -> Any:
        unit = self.kernel.current
        strategy = getattr(unit, "strategy", None)
        if isinstance(strategy, PlacementGroupSchedulingStrategy):
            return strategy.placement_group
        return None

    def placement_group_removed(self, pg: Any, pools: set[int]) -> None:
        """Work inside a removed group fails, as Ray kills it."""
        for task in [t for t in self.running.values() if id(t.pool) in pools]:
            self.kernel.abandon(task)
            task.node = None  # its pool went with the group
            self._finish(task, FAILED, exc.TaskPlacementGroupRemoved())
        for actor in [a for a in self.actors.all if id(a.pool) in pools and a.state != "dead"]:
            actor.pool, actor.holds, actor.gpu_shares = None, {}, []
            self.actors._die(
                actor,
                exc.ActorDiedError(
                    class_name=actor.opts.class_name,
                    actor_id=actor.hex(),
                    namespace=actor.namespace,
                    error_message="The actor is dead because its placement group was removed.",
                ),
            )
        self.scheduler.dispatch()

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
        self.actors.kill(handle._actor)

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

    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        if type(ref) is not SimRef:
            raise TypeError(
                f"ray.cancel() only supported for object refs. For actors, try ray.kill(). "
                f"Got: {type(ref)}."
            )
        task = ref.task
        if type(task) is ActorCall:
            self._cancel_actor_call(task, force)
            return
        if task is None or task.state == FINISHED:
            return  # finished (or a put): nothing changes
        self._cancel_task(task, force, recursive)

    def _cancel_actor_call(self, call: ActorCall, force: bool) -> None:
        """Ray: actor calls cancel only without force; a queued one never runs, a running one
        sees `is_canceled()` (sync) or asyncio cancellation (async)."""
        if force:
            raise ValueError(
                "force=True is not supported for actor tasks. Use ray.kill() to kill the actor."
            )
        if call.state == "finished":
            return
        call.cancelled = True
        actor = call.actor
        if call in actor.mailbox:
            actor.mailbox.remove(call)
            self.actors._fail(call, exc.TaskCancelledError(call.hex()))
        elif call.state == "running":
            self.actors.cancel_running(call)

    def _cancel_task(self, task: Task, force: bool, recursive: bool) -> None:
        if task.state == FINISHED:
            return
        task.cancelled = True
        self.recorder.record("cancel", task=task.task_id, force=force)
        if recursive and task.children:
            for child in list(task.children):
                self._cancel_task(child, force, recursive)
        if task.state in (WAITING_DEPS, QUEUED):
            if task.state == QUEUED:
                self.scheduler.withdraw(task)
            self._finish(task, FAILED, exc.TaskCancelledError())
        elif force:
            self.kernel.abandon(task)
            self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
        elif task.blocked_on is not None and task.blocked_on[0] in ("objects", "lock", "asyncio"):
            # Ray's get/wait poll for signals; a sleep is only interrupted when it returns.
            self.kernel.wake(task, KeyboardInterrupt(), throw=True)
        else:
            task.interrupt = True

    # -- resources and context --------------------------------------------------------------------
    def cluster_resources(self) -> dict[str, float]:
        return self.scheduler.cluster_resources()

    def available_resources(self) -> dict[str, float]:
        return self.scheduler.available_resources()

    def nodes(self) -> list[dict[str, Any]]:
        return self.scheduler.node_rows()

    def context(self) -> dict[str, Any]:
        """A snapshot of the caller's context (see `simray.runtime_context`)."""
        unit = self.kernel.current
        head = self.scheduler.all_nodes[0]
        info: dict[str, Any]
        if type(unit) in (ActorCall, ActorLoop):
            actor = unit.actor
            call = unit if type(unit) is ActorCall else self.actors.current_async_call()
            method = call.method if call is not None else None
            info = {
                "node_id": actor.node.node_id,
                "task_id": call.hex() if call is not None else None,
                "actor_id": actor.hex(),
                "assigned": _floats(actor.holds),
                "gpu_ids": actor.gpu_ids(),
                "namespace": self.namespace,  # the job's, even for an actor named elsewhere
                "cancelled": getattr(unit, "cancelled", False),
                "async_actor": type(unit) is ActorLoop,
                "worker": True,
                "task_name": f"{actor.opts.class_name}.{method}" if method else None,
                "function_name": _qualified(actor.cls, method) if method else None,
                "actor_name": actor.opts.name or "",
                "actor_handle": actor.handle,
                "restarts": actor.restarts,
                "worker_id": worker_id_hex(f"actor-{actor.actor_id}-{actor.restarts}", self.seed),
                "labels": self._labels(actor.node),
                "runtime_env": _effective_env(actor.opts.raw, actor.env),
            }
            strategy = actor.opts.strategy
        elif type(unit) is Task:
            creating = getattr(unit.opts, "actor", None)
            info = {
                "node_id": unit.node.node_id,
                "task_id": unit.hex(),
                "assigned": _floats(unit.demand),
                "gpu_ids": unit.gpu_ids(),
                "namespace": self.namespace,
                "cancelled": unit.cancelled,
                "worker": True,
                "task_name": unit.name,
                "function_name": _qualified(None, unit.fn)
                if creating is None
                else _qualified(creating.cls, "__init__"),
                "worker_id": worker_id_hex(f"task-{unit.task_id}-{unit.attempt}", self.seed),
                "labels": self._labels(unit.node),
                "runtime_env": _effective_env(unit.opts.raw, unit.env),
            }
            if creating is not None:
                info["actor_id"] = creating.hex()
                info["actor_name"] = creating.opts.name or ""
                info["actor_handle"] = creating.handle
                info["assigned"] = _floats(creating.opts.placement_demand)
            strategy = unit.strategy
        else:
            info = {
                "node_id": head.node_id,
                "task_id": None,
                "assigned": {},
                "gpu_ids": [],
                "namespace": self.namespace,
                "cancelled": False,
                "worker": False,
                "worker_id": worker_id_hex("driver", self.seed),
                "labels": self._labels(head),
                "runtime_env": self.runtime_env,
            }
            strategy = None
        if isinstance(strategy, PlacementGroupSchedulingStrategy) and strategy.placement_group:
            info["pg_id"] = strategy.placement_group.id.hex()
            info["capture"] = bool(strategy.placement_group_capture_child_tasks)
        return info

    def _labels(self, node: SimNode) -> dict[str, str]:
        return {"ray.io/node-id": node.node_id, **node.labels}

    def now(self) -> float:
        return self.kernel.now

    # -- end ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.drain()
        self.output.uninstall()
        self.watchdog.stop()
        # The session's bookkeeping goes now, by reference counts: the backend is part of
        # reference cycles, so it would otherwise linger (and be walked by the collector with
        # every task row it holds) until a full collection.
        self.task_table.clear()
        self.finished_order.clear()
        self.task_order.clear()
        self.actor_order.clear()
        gc.set_threshold(*self._gc_threshold)
        self.clock.uninstall()
        self.locks.uninstall()
        self.faults.uninstall()
        self.actors.uninstall_atexit()
        if type(self.kernel.env_now) is UnitEnv:
            self._switch_env(self._driver_cuda)
        if self.kernel.env_now != self._driver_cuda:
            if self._driver_cuda is None:
                os.environ.pop(_CUDA, None)
            else:
                os.environ[_CUDA] = self._driver_cuda
        self.kernel.close()
        self.running.clear()
        if self.trace is not None and self.trace_path:
            with open(self.trace_path, "w", encoding="utf-8") as out:
                self.trace.write(out)

    def drain(self) -> None:
        """Let work that is still going run for a virtual grace period before the end, as Ray
        runs tasks submitted and never waited on before the driver's job ends: the driver
        sleeps `SIMRAY_SHUTDOWN_GRACE` virtual seconds (default 1; 0: no drain), and the clock
        jumps when nothing is left to do."""
        kernel = self.kernel
        if kernel.closed or kernel.current is not kernel.driver or self.drain_grace <= 0:
            return
        arrive = self._arrive  # tasks still paying their submission latency are pending too
        if not (self.running or self.scheduler.queues or any(e[2] == arrive for e in kernel._heap)):
            return  # no task pending (actors' own loops are not drained): the clock stays
        try:
            self.clock.sleep(self.drain_grace)
        except Exception:  # noqa: BLE001 - a run that already failed ends now, as it is
            pass


def task_error(
    name: str, error: BaseException, ip: str, pid: int = _SIM_PID, **actor: Any
) -> BaseException:
    """What a failed task stores: Ray's RayTaskError, or UnserializableException when the
    exception cannot be rebuilt from its pickle (the driver could not deserialize it)."""
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:
        return exc.UnserializableException("".join(traceback.format_exception(error)))
    return exc._make_task_error(name, error, pid=pid, ip=ip, **actor)


def raise_if_dependency_failed(error: BaseException) -> None:
    """Raise a failed argument's error; named as Ray's, so error texts say an input failed.

    Ray raises the stored error itself (not the dual instance) in a fresh frame: nothing that
    the simulator was handling when the argument failed is chained to it.
    """
    raise error from None


def _unit_name(unit: Any) -> str:
    if type(unit) is Task:
        return f"{unit.name}()"
    return f"{unit.actor.opts.class_name}.{unit.method}()"


def _effective_env(raw: dict[str, Any], env: Any) -> dict[str, Any]:
    """A unit's runtime_env as its context reports it: its own, with the merged env_vars."""
    own = dict(raw.get("runtime_env") or {})
    if type(env) is UnitEnv:
        own["env_vars"] = dict(env.vars)
    return own


def _internal_ref() -> SimRef:
    """A pending ref with no number: a signal inside the backend, never handed to users."""
    return SimRef(0)


def _qualified(cls: Any, fn: Any) -> str:
    """`module.Class.method` or `module.function`, as Ray names a task's function."""
    if cls is not None:
        return f"{cls.__module__}.{cls.__qualname__}.{fn}"
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def _reads_globals(target: Any) -> bool:
    """Whether exporting could change what `target` sees: its code names a global (a
    function or class that names none runs the same copied or not, without loading
    cloudpickle)."""
    codes = (
        [target.__code__]
        if hasattr(target, "__code__")
        else [
            getattr(v, "__func__", v).__code__
            for v in vars(target).values()
            if hasattr(getattr(v, "__func__", v), "__code__")
        ]
    )
    return any(code.co_names for code in codes)


def _keep_filenames(copy: Any, original: Any) -> None:
    """cloudpickle names the code of what it pickles by value `<dynamic-code>`; Ray's worker
    shows the script's file and lines in tracebacks, so the copy gets the original's names."""
    import types

    def refile(code: types.CodeType, filename: str) -> types.CodeType:
        consts = tuple(
            refile(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts
        )
        return code.replace(co_filename=filename, co_consts=consts)

    if isinstance(copy, types.FunctionType):
        copy.__code__ = refile(copy.__code__, original.__code__.co_filename)
        return
    for name, value in vars(copy).items():
        fn = getattr(value, "__func__", value)
        source = getattr(vars(original).get(name), "__func__", vars(original).get(name))
        if isinstance(fn, types.FunctionType) and isinstance(source, types.FunctionType):
            fn.__code__ = refile(fn.__code__, source.__code__.co_filename)


def _floats(units: dict[str, int]) -> dict[str, float]:
    return {k: v / UNIT for k, v in units.items()}


def _finished_row(unit: Any) -> bool:
    """Whether a state-API row is of a unit that finished (Ray's first tier to evict)."""
    kind = type(unit)
    if kind is Task:  # a finished task that is its own row (`_end_simple`)
        return unit.state == FINISHED and not unit.returns
    return (kind is EndedTask or kind is EndedCall) and unit.error is None
