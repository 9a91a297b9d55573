"""The `local` backend's driver: tasks and actors on real worker processes of this machine.

The driver holds the scheduler (the sim's, over `_model` resources and placement), the object
table and the resource accounting, under one lock shared with the I/O thread that receives the
workers' messages. Workers run what they are sent and ask the driver for everything else.
"""

from __future__ import annotations

import atexit
import os
import random
import secrets
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import cloudpickle

from simray import exceptions as exc
from simray._actor import ActorHandle
from simray._args import ArgPacker
from simray._ids import IdAllocator
from simray._local import serialization as ser
from simray._local import shm
from simray._local.actors import Actors
from simray._local.objects import FAILED, PENDING, READY, LocalRef, Table, Waiter
from simray._local.pgs import PlacementGroups
from simray._local.procs import Procs, WorkerProc
from simray._local.streams import LocalObjectRefGenerator, LocalStream
from simray._model.resources import UNIT, check_node_resources
from simray._object_ref import ObjectRef, not_a_ref, refs_to_get
from simray._options import TaskOptions
from simray._runtime_env import env_vars_of, merged
from simray._sim.scheduler import (
    DEFAULT_MEMORY,
    DEFAULT_OBJECT_STORE_MEMORY,
    Scheduler,
    SimNode,
    node_total,
)
from simray.util.placement_group import PlacementGroup
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

WAITING_DEPS, QUEUED, RUNNING, FINISHED = "waiting for arguments", "queued", "running", "finished"
_CUDA = "CUDA_VISIBLE_DEVICES"
_LATER = object()
PRESTART_MAX = 8
STARTUP_TIMEOUT = 60.0


class LocalTask:
    """One remote function call, through all its attempts (what the scheduler places)."""

    def __init__(
        self, task_id: int, fn_key: int, args: list[Any], kwargs: dict[str, Any], opts: Any
    ):
        self.task_id = task_id
        self.fn_key = fn_key
        self.args = args
        self.kwargs = kwargs
        self.opts = opts
        self.demand = opts.demand
        self.strategy = opts.strategy
        self.sched_key = opts.sched_key
        self.returns: list[Any] = []
        self.retries_left: int = opts.max_retries
        self.node: Any = None
        self.pool: Any = None
        self.gpu_shares: list[tuple[int, int]] = []
        self.state = WAITING_DEPS
        self.cpu_released = False
        self.parent: LocalTask | None = None
        self.children: dict[LocalTask, None] = {}
        self.cancelled = False
        self.proc: WorkerProc | None = None
        self.actor: Any = None  # set on an actor's creation task
        self.env_vars: dict[str, str] | None = None  # runtime_env env_vars, merged
        self.gen: tuple[str, int | None] | None = None  # (mode, backpressure) of a generator
        self.generator: Any = None  # the ObjectRefGenerator of a streaming task

    @property
    def name(self) -> str:
        return self.opts.name

    @property
    def seq(self) -> int:
        return self.task_id

    @property
    def preferred_node(self) -> Any:
        return self.parent.node if self.parent is not None else None

    def hex(self) -> str:
        return f"{self.task_id:048x}"

    def gpu_ids(self) -> list[int]:
        ids = self.pool.gpu_ids if self.pool is not None else []
        return sorted({ids[i] for i, _ in self.gpu_shares})


class LocalBackend:
    """One local session: created by `init`, ended by `shutdown`."""

    name = "local"

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
        runtime_env: dict[str, Any] | None = None,
    ):
        self.namespace = namespace or "anonymous"
        self.runtime_env: dict[str, Any] = dict(runtime_env or {})
        self.job_env_vars = env_vars_of(runtime_env)
        self.lock = threading.RLock()
        self.started = time.monotonic()
        self.rng = random.Random(seed or 0)
        self.ids = IdAllocator()
        self.table = Table(self.lock, self._freed)
        self.scheduler = Scheduler(self.rng, self._start, self.now)
        self.scheduler.on_unschedulable = self._unschedulable
        self.pgs = PlacementGroups(self)
        self.scheduler.pgs = self.pgs
        self.actors = Actors(self)
        self.running: dict[int, LocalTask] = {}
        self.streams: dict[int, LocalStream] = {}  # generator task or call id -> its stream
        self.submitted: Any = None  # the task `_submit` made last (under the lock)
        self.pack_arg = ArgPacker(self.pack, LocalRef)
        self.fn_blobs: dict[int, bytes] = {}
        self._fn_keys: dict[int, tuple[int, Any]] = {}
        self.idle: list[WorkerProc] = []
        self.need_worker: deque[Any] = deque()  # callables waiting for a process
        self.driver_cuda = os.environ.get(_CUDA)
        self.shm_prefix = f"simray_{os.getpid()}_{secrets.token_hex(4)}_"
        self._shm_count = 0
        # freed put segments kept mapped for reuse: at most 1 GiB, or a tenth of the memory
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        self.arena = shm.Arena.current = shm.Arena(min(1 << 30, ram // 10))
        self.closed = False
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
                    "num_cpus": os.cpu_count() or 1 if num_cpus is None else num_cpus,
                    "num_gpus": num_gpus or 0,
                    "resources": resources,
                    "object_store_memory": object_store_memory,
                    "labels": labels,
                }
            ]
        for spec in node_specs:
            self.add_node(**spec)
        alias = "ray" in sys.modules and sys.modules["ray"].__name__ == "simray"
        config = {
            "sys_path": list(sys.path),
            "cwd": os.getcwd(),
            "alias": alias,
            "namespace": self.namespace,
            "shm_prefix": self.shm_prefix,
        }
        self.procs = Procs(config, self._hello, self._message, self._death, self.lock)
        head_cpus = self.scheduler.all_nodes[0].resources.total.get("CPU", 0) // UNIT
        _sessions.add(self)
        self._up = threading.Condition(self.lock)
        with self.lock:
            for _ in range(max(1, min(head_cpus, PRESTART_MAX))):
                self.procs.spawn()
            # As Ray's init returns with its workers prestarted, so does this one.
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while self.procs.starting:
                if self.procs.server.poll() is not None or time.monotonic() > deadline:
                    self.shutdown()
                    raise RuntimeError(
                        "the local backend's worker processes did not start (see the errors "
                        f"above); the fork server exited with {self.procs.server.poll()}"
                    )
                self._up.wait(0.1)

    # -- serialization -----------------------------------------------------------------------
    def token(self, obj: Any) -> Any:
        if isinstance(obj, LocalRef):
            obj.entry.escaped = True
            return ("r", obj._id)
        if isinstance(obj, ObjectRef):
            raise ValueError(
                "an ObjectRef of another session cannot be passed: refs do not outlive the "
                "session (init/shutdown) that made them"
            )
        if isinstance(obj, ActorHandle):
            return ("a", obj._actor.actor_id, obj._cls)
        record = obj._record
        record.ready_ref.entry.escaped = True
        return ("p", record.pg_id, obj.bundle_specs, record.strategy, record.ready_ref._id)

    def load(self, pid: Any) -> Any:
        kind = pid[0]
        if kind == "r":
            entry = self.table.entries.get(pid[1])
            if entry is None:
                raise ValueError(f"object {pid[1]} is no longer in this session")
            return LocalRef(entry, self.table)
        if kind == "a":
            return self.actors.by_id[pid[1]].handle()
        return self.pgs.by_id[pid[1]].handle

    def pack(self, value: Any) -> Any:
        return ser.pack(value, self.token)

    def _segment_name(self) -> str:
        with self.lock:
            self._shm_count += 1
            return f"{self.shm_prefix}d{self._shm_count}"

    def _store(self, wire: Any) -> Any:
        """Where `put` writes a large value: the arena (a freed segment that fits, or a new one)."""
        return self.arena.write(wire, self._segment_name)

    def wire_for_worker(self, entry: Any) -> Any:
        """What a worker is sent for a resolved entry: large values move to shm once."""
        if entry.state == FAILED:
            return ("e", cloudpickle.dumps(entry.error))
        wire = ser.shareable(entry.wire)
        if wire[0] == "i" and ser.size_of(wire) >= ser.SHM_THRESHOLD:
            self._shm_count += 1
            wire = entry.wire = shm.write(wire, f"{self.shm_prefix}d{self._shm_count}")
        elif wire[0] == "s":
            self.arena.shared(wire[1])
        return wire

    def arg_for_worker(self, arg: Any) -> Any:
        """What a worker is sent for one packed argument: a ref's value (see
        `wire_for_worker`), or a large inline value in a one-shot segment that the worker
        unlinks once it has mapped it (a NumPy argument then reaches it without a copy)."""
        if arg[0] == "ref":
            return self.wire_for_worker(arg[1])
        if arg[0] == "i" and ser.size_of(arg) >= ser.SHM_THRESHOLD:
            self._shm_count += 1
            return shm.write(arg, f"{self.shm_prefix}a{self._shm_count}", once=True)
        return arg

    def _freed(self, entry: Any) -> None:
        wire = entry.wire
        if wire is not None and wire[0] == "s" and not self.arena.freed(wire[1]):
            shm.unlink(wire[1])

    def new_ref(self, task: Any = None) -> LocalRef:
        return LocalRef(self.table.new(self.ids.new_object(), task), self.table)

    # -- cluster -----------------------------------------------------------------------------
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
        with self.lock:
            index = len(self.scheduler.all_nodes)
            resources = dict(resources or {})
            labels = dict(labels or {})
            if accelerator_type is not None:
                resources[f"accelerator_type:{accelerator_type}"] = 1
                labels["ray.io/accelerator-type"] = accelerator_type
            ip = f"127.0.0.{index + 1}"
            total = node_total(
                num_cpus, num_gpus, resources, memory, object_store_memory, ip, index == 0
            )
            node = SimNode(index, total, labels, index == 0)
            self.scheduler.add_node(node)
            return node

    def remove_node(self, node_id: str) -> None:
        with self.lock:
            node = next((n for n in self.scheduler.all_nodes if n.node_id == node_id), None)
            if node is None:
                raise ValueError(f"no node with id {node_id!r} in this local cluster")
            if not node.alive:
                return
            self.scheduler.remove_node(node)
            died = exc.NodeDiedError(
                "Task failed because the node it was running on is dead or unavailable. Node IP: "
                f"{node.ip}, node ID: {node.node_id}. This can happen if the node was preempted, "
                "had a hardware failure, or its raylet crashed unexpectedly."
            )
            for task in [t for t in self.running.values() if t.node is node]:
                proc = task.proc
                self._detach(task)
                if proc is not None:
                    self.procs.kill(proc)
                task.pool, task.gpu_shares, task.node = None, [], None
                self._lost_attempt(task, died)
            self.actors.node_died(node)
            self.scheduler.dispatch()

    def now(self) -> float:
        return time.monotonic() - self.started

    # -- tasks -------------------------------------------------------------------------------
    def fn_key(self, fn: Any) -> int:
        entry = self._fn_keys.get(id(fn))
        if entry is not None and entry[1] is fn:
            return entry[0]
        key = (os.getpid() << 24) + len(self._fn_keys) + 1
        self.fn_blobs[key] = ser.dumps_code(fn, self.token)
        self._fn_keys[id(fn)] = (key, fn)
        return key

    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any) -> Any:
        if opts.submit_error:
            raise ValueError(opts.submit_error)
        with self.lock:
            refs = self._submit(self.fn_key(fn), args, kwargs, opts, None)
            generator = self.submitted.generator if opts.generator is not None else None
            if generator is not None:
                return generator
        n = opts.num_returns
        if n == 1:
            return refs[0]
        return refs if n else None

    def pack_args(
        self, args: Sequence[Any], kwargs: dict[str, Any], name: str
    ) -> tuple[list[Any], dict[str, Any], list[Any]]:
        deps = []
        packed = []
        for a in args:
            if ser.small_atomic(a):
                packed.append(("v", a))
                continue
            a = self.pack_arg(a, name)
            if type(a) is LocalRef:
                a.entry.escaped = True
                deps.append(a.entry)
                a = ("ref", a.entry)
            packed.append(a)
        kw = {}
        for k, v in kwargs.items():
            v = self.pack_arg(v, name)
            if type(v) is LocalRef:
                v.entry.escaped = True
                deps.append(v.entry)
                v = ("ref", v.entry)
            kw[k] = v
        return packed, kw, deps

    def _submit(
        self,
        key: int,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        opts: Any,
        parent: Any,
        parent_env: dict[str, str] | None = None,
    ) -> list[LocalRef]:
        packed, kw, deps = self.pack_args(args, kwargs, opts.name)
        task = self.submitted = LocalTask(self.ids.new_task(), key, packed, kw, opts)
        if opts.strategy is None and parent is not None:
            inherited = parent.strategy
            if (
                isinstance(inherited, PlacementGroupSchedulingStrategy)
                and inherited.placement_group_capture_child_tasks
            ):
                task.strategy = PlacementGroupSchedulingStrategy(
                    inherited.placement_group, -1, True
                )
                task.sched_key = (opts.sched_key[0], ("pg", id(inherited.placement_group)))
        if self.job_env_vars is not None or opts.env_vars is not None or parent_env:
            task.env_vars = merged(parent_env or self.job_env_vars, opts.env_vars)
        if parent is not None:
            task.parent = parent
            parent.children[task] = None
        refs = [self.new_ref(task) for _ in range(opts.num_returns)]
        task.returns = [r.entry for r in refs]
        if opts.generator is not None:
            task.generator = self.start_stream(task, refs[0], opts.generator, opts.backpressure)
        self.when_ready(deps, lambda: self._deps_done(task))
        return refs

    # -- generator tasks and calls -------------------------------------------------------------
    def start_stream(self, unit: Any, ref: LocalRef, mode: str, backpressure: int | None) -> Any:
        """Register the generator task or call `unit` whose completion ref is `ref` (under the
        lock, before it can run); for "streaming", the ObjectRefGenerator its caller gets."""
        stream = LocalStream(self, mode, backpressure)
        key = unit.task_id if isinstance(unit, LocalTask) else unit.call_id
        self.streams[key] = stream
        unit.gen = (mode, stream.backpressure)

        def ended(_entry: Any) -> None:
            if self.streams.pop(key, None) is not None:
                stream.end()

        ref.entry.on_ready(ended)
        if mode != "streaming":
            return None
        return LocalObjectRefGenerator(stream, ref, self)

    def stream_value(self, key: int, outputs: list[Any]) -> list[Any]:
        """The completion value of a finished generator: a "dynamic" one's refs."""
        stream = self.streams.get(key)
        if stream is None or stream.mode != "dynamic":
            return outputs
        from simray._generator import DynamicObjectRefGenerator

        return [self.pack(DynamicObjectRefGenerator(stream.items))]

    def _yielded(self, key: int, wire: Any) -> None:
        stream = self.streams.get(key)
        if stream is not None:
            stream.push(wire)

    def _rpc_credit(self, proc, req, key):  # type: ignore[no-untyped-def]
        stream = self.streams.get(key)
        if stream is None or not stream.wants_credit():
            return None
        stream.credit.append((proc, req))
        return _LATER

    def wait_mixed(
        self, items: list[Any], num_returns: int, timeout: float | None
    ) -> tuple[list[Any], list[Any]]:
        from simray._local.streams import wait_mixed

        return wait_mixed(self, items, num_returns, timeout)

    def when_ready(self, deps: list[Any], then: Any) -> None:
        pending = [d for d in deps if d.state == PENDING]
        if not pending:
            then()
            return
        Waiter(len(pending), False, then).watch(pending)

    def _deps_done(self, task: LocalTask) -> None:
        if task.state != WAITING_DEPS:
            return
        for a in [*task.args, *task.kwargs.values()]:
            if a[0] == "ref" and a[1].state == FAILED:
                try:
                    raise_if_dependency_failed(a[1].error)
                except BaseException as error:  # noqa: BLE001 - stored as the task's error
                    self._finish(
                        task,
                        FAILED,
                        exc._make_task_error(task.name, error, pid=os.getpid(), ip="127.0.0.1"),
                    )
                return
        task.state = QUEUED
        self.scheduler.submit(task)

    def _start(self, task: LocalTask, node: SimNode) -> None:
        """The scheduler placed `task` on `node` (resources taken): run it in a worker."""
        task.node = node
        task.state = RUNNING
        self.running[task.task_id] = task
        if task.actor is not None:
            self.actors.placed(task)
            return
        self.with_worker(lambda proc: self._send_task(proc, task), task)

    def with_worker(self, then: Any, owner: Any) -> None:
        """Call `then(proc)` with an idle worker process, now or when one is free."""
        if self.idle:
            then(self.idle.pop())
            return
        then.owner = owner
        self.need_worker.append(then)
        if len(self.procs.starting) < len(self.need_worker):
            self.procs.spawn()

    def _proc_free(self, proc: WorkerProc) -> None:
        proc.task = None
        proc.state = "idle"
        if self.need_worker:
            self.need_worker.popleft()(proc)
        else:
            self.idle.append(proc)

    def _send_task(self, proc: WorkerProc, task: LocalTask) -> None:
        proc.state = "busy"
        proc.task = task
        proc.node = task.node
        task.proc = proc
        key = task.fn_key
        blob = None
        if key not in proc.fns:
            proc.fns.add(key)
            blob = self.fn_blobs[key]
        args = [self.arg_for_worker(a) for a in task.args]
        kwargs = {k: self.arg_for_worker(v) for k, v in task.kwargs.items()}
        gpu_ids = task.gpu_ids()
        ctx = {
            "node_id": task.node.node_id,
            "ip": task.node.ip,
            "task_id": task.hex(),
            "assigned": _floats(task.demand),
            "gpu_ids": gpu_ids,
            "namespace": self.namespace,
            "worker": True,
            "label": task.name.rpartition(".")[2],
            "name": task.name,
            "cuda": ",".join(map(str, gpu_ids)) if task.gpu_shares else self.driver_cuda,
            "strategy_pg": _pg_id(task.strategy),
            "task_name": task.name,
            "worker_id": f"{proc.pid:056x}",
            "labels": {"ray.io/node-id": task.node.node_id, **task.node.labels},
            "runtime_env": effective_env(task.opts.raw, task.env_vars),
            "env_vars": task.env_vars,
            **_pg_info(task.strategy),
        }
        n = task.gen if task.gen is not None else len(task.returns)
        proc.send(("run", task.task_id, key, blob, args, kwargs, n, ctx))

    def _task_done(self, proc: WorkerProc, task_id: int, outputs: list[Any]) -> None:
        task = proc.task
        if task is None or task.task_id != task_id:
            return
        if task.gen is not None:
            outputs = self.stream_value(task_id, outputs)
        for entry, wire in zip(task.returns, outputs, strict=True):
            entry.resolve(READY, wire)
        self._end(task)

    def _task_error(self, proc: WorkerProc, task_id: int, report: Any) -> None:
        task = proc.task
        if task is None or task.task_id != task_id:
            return
        kind, payload = report
        if kind == "cancelled":
            error: BaseException = exc.TaskCancelledError(task.hex())
        elif kind == "unserializable":
            error = exc.UnserializableException(payload)
        else:
            error = cloudpickle.loads(payload)
            cause = getattr(error, "cause", None)
            retry = task.opts.retry_exceptions
            if (
                retry
                and not task.cancelled
                and task.retries_left != 0
                and isinstance(cause, Exception)
                and (retry is True or isinstance(cause, retry))
            ):
                left = task.retries_left
                print(
                    f"(raylet) Task {task.name} failed. There are "
                    f"{left if left > 0 else 'infinite'} retries remaining, so the task will be "
                    f"retried. Error: User exception: {type(cause).__name__}: {cause}",
                    file=sys.stderr,
                )
                if left > 0:
                    task.retries_left -= 1
                self._detach(task)
                self._proc_free(proc)
                self._requeue(task)
                return
        self._finish(task, FAILED, error)

    def _detach(self, task: LocalTask) -> None:
        """Take `task` off its worker and give back its resources."""
        proc = task.proc
        task.proc = None
        if proc is not None:
            for waiter in proc.waits.values():
                waiter.cancel()
            proc.waits.clear()
            proc.task = None
        self.running.pop(task.task_id, None)
        self._release(task)

    def _release(self, task: LocalTask) -> None:
        pool = task.pool
        if pool is None:
            return
        if task.cpu_released:
            task.cpu_released = False
            pool.available["CPU"] -= task.demand["CPU"]
        pool.release(task.demand, task.gpu_shares)
        task.gpu_shares = []
        task.pool = None

    def _requeue(self, task: LocalTask) -> None:
        task.state = QUEUED
        task.node = None
        self.scheduler.submit(task)
        self.scheduler.dispatch()

    def _lost_attempt(self, task: LocalTask, error: BaseException) -> None:
        """Its worker died: run it again if retries are left, else fail with `error`."""
        if task.retries_left != 0 and not task.cancelled:
            if task.retries_left > 0:
                task.retries_left -= 1
            self._requeue(task)
        else:
            self._finish(task, FAILED, error)

    def _finish(self, task: LocalTask, state: int, error: BaseException) -> None:
        for entry in task.returns:
            entry.resolve(state, None, error)
        self._end(task)

    def _end(self, task: LocalTask) -> None:
        proc = task.proc
        was_running = task.state == RUNNING
        task.state = FINISHED
        if was_running:
            self._detach(task)
            if proc is not None and proc.state == "busy":
                self._proc_free(proc)
            self.scheduler.dispatch()
        self._drop_waiting(task)
        task.args = task.kwargs = None  # type: ignore[assignment]
        parent = task.parent
        if parent is not None:
            parent.children.pop(task, None)
            task.parent = None

    def _drop_waiting(self, owner: Any) -> None:
        if self.need_worker:
            for then in list(self.need_worker):
                if getattr(then, "owner", None) is owner:
                    self.need_worker.remove(then)

    def _unschedulable(self, task: LocalTask, error: BaseException) -> None:
        if task.actor is not None:
            self.actors.unschedulable(task, error)
            return
        self._finish(task, FAILED, error)

    # -- worker processes ------------------------------------------------------------------------
    def _hello(self, proc: WorkerProc) -> None:
        self._proc_free(proc)
        if not self.procs.starting:
            self._up.notify_all()

    def _death(self, proc: WorkerProc) -> None:
        previous = proc.state
        proc.state = "dead"
        if proc in self.idle:
            self.idle.remove(proc)
        for waiter in proc.waits.values():
            waiter.cancel()
        proc.waits.clear()
        task = proc.task
        if task is not None and previous == "busy":
            self._detach(task)
            if task.cancelled:
                self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
            else:
                self._lost_attempt(task, exc.WorkerCrashedError())
            self.scheduler.dispatch()
        if proc.actor is not None:
            self.actors.process_died(proc)
        if self.need_worker and len(self.procs.starting) < len(self.need_worker):
            self.procs.spawn()

    def _message(self, proc: WorkerProc, msg: Any) -> None:
        kind = msg[0]
        if kind == "done":
            self._task_done(proc, msg[1], msg[2])
        elif kind == "rpc":
            self._rpc(proc, msg[1], msg[2], msg[3])
        elif kind == "error":
            self._task_error(proc, msg[1], msg[2])
        elif kind == "yield":
            self._yielded(msg[1], msg[2])
        elif kind == "unwait":
            waiter = proc.waits.pop(msg[1], None)
            if waiter is not None:
                waiter.cancel()
                waiter.then_unblock()
        else:
            self.actors.message(proc, msg)

    def _rpc(self, proc: WorkerProc, req: int, op: str, payload: Any) -> None:
        try:
            args = ser.unpack(payload, self.load)
            result = getattr(self, "_rpc_" + op)(proc, req, *args)
        except BaseException as e:  # noqa: BLE001 - the caller raises it in its process
            self.reply(proc, req, False, e)
            return
        if result is not _LATER:
            self.reply(proc, req, True, result)

    def reply(self, proc: WorkerProc, req: int, ok: bool, value: Any) -> None:
        try:
            wire = ser.pack(value, self.token)
        except Exception as e:  # noqa: BLE001 - an unpicklable error: send its text
            ok, wire = (
                False,
                ser.pack(RuntimeError(f"{type(value).__name__}: {value} ({e})"), self.token),
            )
        proc.send(("reply", req, ok, wire))

    # -- requests from workers ---------------------------------------------------------------------
    def _rpc_submit(self, proc, req, key, blob, raw, name, args, kwargs):  # type: ignore[no-untyped-def]
        if blob is not None:
            self.fn_blobs[key] = blob
        proc.fns.add(key)
        opts = TaskOptions(raw, name)
        if opts.submit_error:
            raise ValueError(opts.submit_error)
        owner = proc.task if proc.task is not None else proc.actor
        refs = self._submit(key, args, kwargs, opts, proc.task, getattr(owner, "env_vars", None))
        for r in refs:
            r.entry.escaped = True
        n = opts.num_returns
        return refs[0]._id if n == 1 else [r._id for r in refs] if n else None

    def _rpc_get(self, proc, req, ids, timeout=None):  # type: ignore[no-untyped-def]
        entries = [self._entry(i) for i in ids]
        pending = [e for e in entries if e.state == PENDING]
        failed = any(e.state == FAILED for e in entries)

        def answer() -> None:
            proc.waits.pop(req, None)
            unblock()
            self.reply(
                proc,
                req,
                True,
                [
                    self.wire_for_worker(e)
                    if e.state != PENDING
                    else ("e", cloudpickle.dumps(_first_error(entries)))
                    for e in entries
                ],
            )

        if not pending or failed:
            unblock = _noop
            answer()
            return _LATER
        unblock = self._block(proc)
        waiter = Waiter(len(pending), True, answer)
        waiter.then_unblock = unblock  # type: ignore[attr-defined]
        proc.waits[req] = waiter
        waiter.watch(pending)
        return _LATER

    def _rpc_wait(self, proc, req, ids, num_returns):  # type: ignore[no-untyped-def]
        entries = [self._entry(i) for i in ids]
        done = sum(1 for e in entries if e.state != PENDING)

        def ready_ids() -> list[int]:
            return [e.oid for e in entries if e.state != PENDING]

        if done >= num_returns:
            return ready_ids()
        unblock = self._block(proc)

        def answer() -> None:
            proc.waits.pop(req, None)
            unblock()
            self.reply(proc, req, True, ready_ids())

        waiter = Waiter(num_returns - done, False, answer)
        waiter.then_unblock = unblock  # type: ignore[attr-defined]
        proc.waits[req] = waiter
        waiter.watch([e for e in entries if e.state == PENDING])
        return _LATER

    def _block(self, proc: WorkerProc) -> Any:
        """A normal task blocked in get/wait gives its CPU back until it resumes (Ray's rule)."""
        task = proc.task
        cpu = task.demand.get("CPU") if task is not None and proc.state == "busy" else None
        if not cpu or task.cpu_released or task.pool is None:
            return _noop
        task.cpu_released = True
        task.pool.available["CPU"] += cpu
        self.scheduler.dispatch()

        def unblock() -> None:
            if task.cpu_released and task.pool is not None:
                task.cpu_released = False
                task.pool.available["CPU"] -= cpu

        return unblock

    def _rpc_put(self, proc, req, wire):  # type: ignore[no-untyped-def]
        entry = self.table.new(self.ids.new_object())
        entry.escaped = True
        entry.resolve(READY, wire)
        return entry.oid

    def _rpc_cancel(self, proc, req, oid, force, recursive):  # type: ignore[no-untyped-def]
        self.cancel(LocalRef(self._entry(oid), self.table), force, recursive)

    def _rpc_create_actor(self, proc, req, cls, args, kwargs, raw):  # type: ignore[no-untyped-def]
        from simray._actor import ActorOptions

        return self.actors.create(cls, args, kwargs, ActorOptions(raw, cls))

    def _rpc_actor_call(self, proc, req, actor_id, method, args, kwargs, n, group):  # type: ignore[no-untyped-def]
        refs = self.actors.submit(self.actors.by_id[actor_id], method, args, kwargs, n, group)
        refs = [refs] if isinstance(refs, LocalRef) else refs or []
        for r in refs:
            r.entry.escaped = True
        return refs[0]._id if n == 1 else [r._id for r in refs] if n else None

    def _rpc_kill(self, proc, req, actor_id, no_restart):  # type: ignore[no-untyped-def]
        self.actors.kill(self.actors.by_id[actor_id])

    def _rpc_get_actor(self, proc, req, name, namespace):  # type: ignore[no-untyped-def]
        return self.actors.get_named(name, namespace)

    def _rpc_list_named_actors(self, proc, req, all_namespaces):  # type: ignore[no-untyped-def]
        return self.list_named_actors(all_namespaces)

    def _rpc_create_placement_group(self, proc, req, bundles, strategy, name):  # type: ignore[no-untyped-def]
        record = self.pgs.create(bundles, strategy, name)
        record.handle = PlacementGroup(record, bundles)
        return record.handle

    def _rpc_remove_placement_group(self, proc, req, pg_id):  # type: ignore[no-untyped-def]
        self.pgs.remove(self.pgs.by_id[pg_id])

    def _rpc_placement_group_table(self, proc, req, pg_id):  # type: ignore[no-untyped-def]
        return self.pgs.table(self.pgs.by_id[pg_id])

    def _rpc_placement_groups(self, proc, req):  # type: ignore[no-untyped-def]
        return [r.handle for r in self.pgs.all]

    def _rpc_current_placement_group(self, proc, req, ctx):  # type: ignore[no-untyped-def]
        pg_id = (ctx or {}).get("strategy_pg")
        return self.pgs.by_id[pg_id].handle if pg_id is not None else None

    def _rpc_cluster_resources(self, proc, req):  # type: ignore[no-untyped-def]
        return self.cluster_resources()

    def _rpc_available_resources(self, proc, req):  # type: ignore[no-untyped-def]
        return self.available_resources()

    def _rpc_nodes(self, proc, req):  # type: ignore[no-untyped-def]
        return self.nodes()

    def _entry(self, oid: int) -> Any:
        entry = self.table.entries.get(oid)
        if entry is None:
            raise ValueError(f"object {oid:056x} is not in this session")
        return entry

    # -- the object API (driver) ---------------------------------------------------------------
    def get(self, refs: Any, timeout: float | None) -> Any:
        refs, single = refs_to_get(refs)
        for ref in refs:
            if type(ref) is not LocalRef:
                not_a_ref("get", ref)
        with self.lock:
            entries = [r.entry for r in refs]
            pending = [e for e in entries if e.state == PENDING]
            failed = any(e.state == FAILED for e in entries)
            waiter = None
            if pending and not failed:
                if timeout is not None and timeout <= 0:
                    raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
                waiter = Waiter(len(pending), True)
                waiter.watch(pending)
        if waiter is not None and not waiter.event.wait(timeout):  # type: ignore[union-attr]
            with self.lock:
                waiter.cancel()
            raise exc.GetTimeoutError("Get timed out: some object(s) not ready.")
        values = []
        for entry in entries:
            state = entry.state
            if state == READY:
                values.append(ser.unpack(entry.wire, self.load))
            elif state == FAILED:
                raise as_raised(entry.error)
        return values[0] if single else values

    def wait(
        self, refs: list[Any], num_returns: int, timeout: float | None, fetch_local: bool
    ) -> tuple[list[Any], list[Any]]:
        for ref in refs:
            if type(ref) is not LocalRef:
                not_a_ref("wait", ref)
        with self.lock:
            entries = [r.entry for r in refs]
            done = sum(1 for e in entries if e.state != PENDING)
            waiter = None
            if done < num_returns and (timeout is None or timeout > 0):
                waiter = Waiter(num_returns - done, False)
                waiter.watch([e for e in entries if e.state == PENDING])
        if waiter is not None:
            waiter.event.wait(timeout)  # type: ignore[union-attr]
            with self.lock:
                waiter.cancel()
        with self.lock:
            ready: list[Any] = []
            not_ready: list[Any] = []
            for ref in refs:
                if ref.entry.state != PENDING and len(ready) < num_returns:
                    ready.append(ref)
                else:
                    not_ready.append(ref)
        return ready, not_ready

    def put(self, value: Any) -> LocalRef:
        try:
            wire = ser.pack_for_put(value, self.token, self._store)
        except Exception as e:
            raise TypeError(
                f"Could not serialize the put value {value!r}: {type(e).__name__}: {e}. "
                "Objects are stored as copies (cloudpickle); put a picklable value."
            ) from e
        with self.lock:
            ref = self.new_ref()
            ref.entry.resolve(READY, wire)
        return ref

    async def await_ref(self, ref: Any) -> Any:
        import asyncio

        if type(ref) is not LocalRef:
            not_a_ref("await", ref)
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def resolved(_entry: Any) -> None:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))

        with self.lock:
            ref.entry.on_ready(resolved)
        await future
        return self.get(ref, None)

    def ref_future(self, ref: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()

        def resolved(entry: Any) -> None:
            if entry.state == READY:
                future.set_result(ser.unpack(entry.wire, self.load))
            else:
                future.set_exception(as_raised(entry.error))

        with self.lock:
            ref.entry.on_ready(resolved)
        return future

    # -- cancel --------------------------------------------------------------------------------
    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        if type(ref) is not LocalRef:
            raise TypeError(
                f"ray.cancel() only supported for object refs. For actors, try ray.kill(). "
                f"Got: {type(ref)}."
            )
        with self.lock:
            task = ref.entry.task
            if task is None:
                return
            if not isinstance(task, LocalTask):
                self.actors.cancel_call(task, force)
                return
            self._cancel_task(task, force, recursive)

    def _cancel_task(self, task: LocalTask, force: bool, recursive: bool) -> None:
        if task.state == FINISHED:
            return
        task.cancelled = True
        if recursive:
            for child in list(task.children):
                self._cancel_task(child, force, recursive)
        if task.state in (WAITING_DEPS, QUEUED):
            if task.state == QUEUED:
                self.scheduler.withdraw(task)
            self._finish(task, FAILED, exc.TaskCancelledError())
        elif task.proc is None:  # placed, waiting for a worker process
            self._drop_waiting(task)
            self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
        elif force:
            proc = task.proc
            self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
            proc.state = "killed"
            self.procs.kill(proc)
        else:
            task.proc.send(("cancel", task.task_id))

    # -- actors ----------------------------------------------------------------------------------
    def create_actor(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        with self.lock:
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
        with self.lock:
            return self.actors.submit(actor, method, args, kwargs, num_returns, concurrency_group)

    def kill(self, handle: Any, no_restart: bool) -> None:
        with self.lock:
            self.actors.kill(handle._actor)

    def get_actor(self, name: str, namespace: str | None) -> Any:
        with self.lock:
            return self.actors.get_named(name, namespace)

    def list_named_actors(self, all_namespaces: bool) -> list[Any]:
        with self.lock:
            return self.actors.list_named(all_namespaces)

    # -- placement groups ----------------------------------------------------------------------
    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        with self.lock:
            return self.pgs.create(bundles, strategy, name)

    def remove_placement_group(self, record: Any) -> None:
        with self.lock:
            self.pgs.remove(record)

    def placement_group_table(self, record: Any) -> dict[str, Any]:
        with self.lock:
            return self.pgs.table(record)

    def placement_groups(self) -> list[Any]:
        with self.lock:
            return list(self.pgs.all)

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        ready, _ = self.wait([record.ready_ref], 1, timeout, True)
        return bool(ready)

    def current_placement_group(self) -> Any:
        return None  # the driver runs in no group

    def placement_group_removed(self, pools: set[int]) -> None:
        """Work inside a removed group fails, as Ray kills it."""
        for task in [t for t in self.running.values() if id(t.pool) in pools]:
            proc = task.proc
            self._detach(task)
            task.node = None
            self._finish(task, FAILED, exc.TaskPlacementGroupRemoved())
            if proc is not None:
                proc.state = "killed"
                self.procs.kill(proc)
        self.actors.pools_removed(pools)
        self.scheduler.dispatch()

    def call_soon(self, fn: Any) -> None:
        """Run `fn()` under the lock on the I/O thread, after the caller returns."""
        self.procs.call_soon(fn)

    # -- resources and context -----------------------------------------------------------------
    def cluster_resources(self) -> dict[str, float]:
        with self.lock:
            return self.scheduler.cluster_resources()

    def available_resources(self) -> dict[str, float]:
        with self.lock:
            return self.scheduler.available_resources()

    def nodes(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.scheduler.node_rows()

    def context(self) -> dict[str, Any]:
        head = self.scheduler.all_nodes[0]
        return {
            "node_id": head.node_id,
            "task_id": None,
            "assigned": {},
            "gpu_ids": [],
            "namespace": self.namespace,
            "cancelled": False,
            "worker": False,
            "worker_id": f"{os.getpid():056x}",
            "labels": {"ray.io/node-id": head.node_id, **head.labels},
            "runtime_env": self.runtime_env,
        }

    def exit_actor(self) -> None:
        raise TypeError(
            "exit_actor API is called on a non-actor worker, 0. Call this API inside an "
            "actor methodsif you'd like to exit the actor gracefully."
        )

    # -- end -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.table.closed = True
        self.procs.close()
        self.arena.close()
        if shm.Arena.current is self.arena:
            shm.Arena.current = None
        shm.unlink_prefix(self.shm_prefix)
        _sessions.discard(self)


def raise_if_dependency_failed(error: BaseException) -> None:
    """Raise a failed argument's error; named as Ray's, so error texts say an input failed
    (Ray raises the stored error itself, in a fresh frame)."""
    raise error from None


def as_raised(error: BaseException | None) -> BaseException:
    if isinstance(error, exc.RayTaskError):
        return error.as_instanceof_cause()
    assert error is not None
    return error


def _first_error(entries: list[Any]) -> BaseException | None:
    return next((e.error for e in entries if e.state == FAILED), None)


def _floats(units: dict[str, int]) -> dict[str, float]:
    return {k: v / UNIT for k, v in units.items()}


def _pg_id(strategy: Any) -> int | None:
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        return strategy.placement_group._record.pg_id
    return None


def effective_env(raw: dict[str, Any], env_vars: dict[str, str] | None) -> dict[str, Any]:
    """A task's runtime_env as its context reports it: its own, with the merged env_vars."""
    own = dict(raw.get("runtime_env") or {})
    if env_vars:
        own["env_vars"] = dict(env_vars)
    return own


def _pg_info(strategy: Any) -> dict[str, Any]:
    if isinstance(strategy, PlacementGroupSchedulingStrategy) and strategy.placement_group:
        return {
            "pg_id": strategy.placement_group.id.hex(),
            "capture": bool(strategy.placement_group_capture_child_tasks),
        }
    return {}


def _noop() -> None:
    pass


_sessions: weakref.WeakSet[LocalBackend] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    """At interpreter exit no worker process or shared-memory segment stays behind."""
    for session in list(_sessions):
        session.shutdown()
