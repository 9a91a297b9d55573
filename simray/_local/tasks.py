"""Remote function calls on the local backend, from submission to their end: arguments,
placement (the shared scheduler), a worker process to run on, results, retries and cancel.

`Tasks` is mixed into `LocalBackend`, as the sim's `ObjectAPI` is into `SimBackend`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import cloudpickle

from simray import exceptions as exc
from simray._context_fields import effective_env, placement_group_fields
from simray._local import serialization as ser
from simray._local.ids import object_id, task_bits
from simray._local.objects import FAILED, LocalRef
from simray._local.procs import WorkerProc
from simray._local.streams import LocalObjectRefGenerator, LocalStream
from simray._model.resources import to_floats
from simray._model.returns import (
    raise_if_dependency_failed,
    retries_exception,
    retry_notice,
    spend_retry,
)
from simray._object_ref import ObjectRef
from simray._options import SchedulingClass
from simray._output import task_label
from simray._runtime_env import merged
from simray._sim.scheduler import SimNode, node_labels
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

WAITING_DEPS, QUEUED, RUNNING, FINISHED = "waiting for arguments", "queued", "running", "finished"


class LocalTask:
    """One remote function call, through all its attempts (what the scheduler places)."""

    def __init__(
        self, task_id: int, fn_key: int, args: list[Any], kwargs: dict[str, Any], opts: Any
    ):
        self.task_id = task_id
        self.bits = task_bits(task_id)  # its TaskID as an integer (`_local.ids`)
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
        self.nested: list[Any] = []  # entries of refs nested in its arguments
        self.actor_pins: list[Any] = []  # actors whose handles its arguments carry
        self.attempt = 0  # retries so far
        self.pid = 0  # its (last) worker process
        self.error: BaseException | None = None
        # seconds since the session started (the state API's times)
        self.created_at = 0.0
        self.started_at: float | None = None
        self.ended_at: float | None = None

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
        return f"{self.bits:048x}"

    def gpu_ids(self) -> list[int]:
        ids = self.pool.gpu_ids if self.pool is not None else []
        return sorted({ids[i] for i, _ in self.gpu_shares})


class Tasks:
    """Mixed into LocalBackend: remote function calls and the worker processes they run on."""

    # Provided by LocalBackend.
    lock: Any
    scheduler: Any
    procs: Any
    actors: Any
    ids: Any
    table: Any
    namespace: str
    driver_cuda: str | None
    job_env_vars: dict[str, str] | None
    fn_blobs: dict[int, bytes]
    _fn_keys: dict[int, tuple[int, Any]]
    running: dict[int, LocalTask]
    streams: dict[int, LocalStream]
    submitted: Any
    idle: list[WorkerProc]
    need_worker: Any
    pack_arg: Any
    task_table: Any
    now: Any
    adopt: Any

    def function_of(self, key: int) -> Any:
        """The driver's function exported as `key` (None for one a worker exported)."""
        return next((fn for k, fn in self._fn_keys.values() if k == key), None)

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
    ) -> tuple[list[Any], dict[str, Any], list[Any], list[Any], list[Any]]:
        """A call's stored arguments: (args, kwargs, the entries of its top-level refs, the
        entries of refs nested in its values, the actors whose handles they carry)."""
        ((packed, kw, deps), nested), actors = ser.with_actors(
            lambda: ser.with_refs(lambda: self._pack_args(args, kwargs, name))
        )
        self.table.pin(deps + nested)  # until the call ends (see `unpin_args`)
        self.actors.pin(actors)
        return packed, kw, deps, nested, actors

    def unpin_args(self, unit: Any) -> None:
        """A task or call ended: the objects its arguments named are let go (once)."""
        args, kwargs = unit.args, unit.kwargs
        if args is None:
            return
        unit.args = unit.kwargs = None
        deps = [a[1] for a in [*args, *kwargs.values()] if a[0] == "ref"]
        self.table.unpin(deps + unit.nested)
        unit.nested = []
        pins, unit.actor_pins = unit.actor_pins, []
        self.actors.unpin(pins)

    def unit_ended(self, key: int, unit: Any, error: BaseException | None) -> None:
        """An actor call ended: its row is kept small, its arguments let go, and outputs no
        one holds are freed."""
        self.task_table.ended(key, unit, error)
        self.unpin_args(unit)
        for entry in unit.returns:
            self.table.settle(entry)

    def _pack_args(
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
                deps.append(a.entry)
                a = ("ref", a.entry)
            packed.append(a)
        kw = {}
        for k, v in kwargs.items():
            v = self.pack_arg(v, name)
            if type(v) is LocalRef:
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
        packed, kw, deps, nested, pins = self.pack_args(args, kwargs, opts.name)
        task = self.submitted = LocalTask(self.ids.new_task(), key, packed, kw, opts)
        task.nested = nested
        task.actor_pins = pins
        self.task_table.add(task.task_id, task)
        if opts.strategy is None and parent is not None:
            inherited = parent.strategy
            if (
                isinstance(inherited, PlacementGroupSchedulingStrategy)
                and inherited.placement_group_capture_child_tasks
            ):
                task.strategy = PlacementGroupSchedulingStrategy(
                    inherited.placement_group, -1, True
                )
                task.sched_key = SchedulingClass.of(
                    opts.sched_key.demand, ("pg", id(inherited.placement_group))
                )
        if self.job_env_vars is not None or opts.env_vars is not None or parent_env:
            task.env_vars = merged(parent_env or self.job_env_vars, opts.env_vars)
        if parent is not None:
            task.parent = parent
            parent.children[task] = None
        refs = [self.new_ref(object_id(task.bits, i), task) for i in range(1, opts.num_returns + 1)]
        task.returns = [r.entry for r in refs]
        if opts.generator is not None:
            task.generator = self.start_stream(task, refs[0], opts.generator, opts.backpressure)
        self.when_ready(deps, lambda: self._deps_done(task))
        return refs

    def start_stream(self, unit: Any, ref: LocalRef, mode: str, backpressure: int | None) -> Any:
        """Register the generator task or call `unit` whose completion ref is `ref` (under the
        lock, before it can run); for "streaming", the ObjectRefGenerator its caller gets."""
        key = unit.task_id if isinstance(unit, LocalTask) else unit.call_id
        stream = LocalStream(self, unit.bits, mode, backpressure)
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
        task.pid = proc.pid
        task.started_at = self.now()
        key = task.fn_key
        blob = None
        if key not in proc.fns:
            proc.fns.add(key)
            blob = self.fn_blobs[key]
        args, kwargs = self.args_for_worker(proc, task.args, task.kwargs, task.nested)
        self.actors.lend(proc, task.actor_pins)
        gpu_ids = task.gpu_ids()
        ctx = {
            "node_id": task.node.node_id,
            "ip": task.node.ip,
            "task_id": task.hex(),
            "attempt": task.attempt,  # its puts' TaskID (`_local.ids`)
            "assigned": to_floats(task.demand),
            "gpu_ids": gpu_ids,
            "namespace": self.namespace,
            "worker": True,
            "label": task_label(task.name),
            "name": task.name,
            "cuda": ",".join(map(str, gpu_ids)) if task.gpu_shares else self.driver_cuda,
            "strategy_pg": pg_id(task.strategy),
            "task_name": task.name,
            "worker_id": f"{proc.pid:056x}",
            "labels": node_labels(task.node),
            "runtime_env": effective_env(task.opts.raw, task.env_vars),
            "env_vars": task.env_vars,
            **placement_group_fields(task.strategy),
        }
        n = task.gen if task.gen is not None else len(task.returns)
        proc.send(("run", task.task_id, key, blob, args, kwargs, n, ctx))

    def _task_done(self, proc: WorkerProc, task_id: int, outputs: list[Any]) -> None:
        task = proc.task
        if task is None or task.task_id != task_id:
            return
        if task.gen is not None:
            outputs = self.stream_value(task_id, outputs)
        table = self.table
        for entry, wire in zip(task.returns, outputs, strict=True):
            table.hold(entry, *table.take(wire))
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
            if retries_exception(
                task.opts.retry_exceptions, task.cancelled, task.retries_left, cause
            ):
                print(retry_notice(task.name, task.retries_left, cause), file=sys.stderr)
                if task.retries_left > 0:
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
            pool.shift_cpu(-task.demand["CPU"])
        pool.release(task.demand, task.gpu_shares)
        task.gpu_shares = []
        task.pool = None

    def _requeue(self, task: LocalTask) -> None:
        task.state = QUEUED
        task.node = None
        task.attempt += 1
        task.started_at = None
        self.scheduler.submit(task)
        self.scheduler.dispatch()

    def _lost_attempt(self, task: LocalTask, error: BaseException) -> None:
        """Its worker died: run it again if retries are left, else fail with `error`."""
        if spend_retry(task):
            self._requeue(task)
        else:
            self._finish(task, FAILED, error)

    def _finish(self, task: LocalTask, state: int, error: BaseException) -> None:
        task.error = error
        for entry in task.returns:
            entry.resolve(state, None, error)
        self._end(task)

    def _end(self, task: LocalTask) -> None:
        proc = task.proc
        was_running = task.state == RUNNING
        task.state = FINISHED
        self.task_table.ended(task.task_id, task, task.error)
        if was_running:
            self._detach(task)
            if proc is not None and proc.state == "busy":
                self._proc_free(proc)
            self.scheduler.dispatch()
        self._drop_waiting(task)
        self.unpin_args(task)
        for entry in task.returns:
            self.table.settle(entry)  # an output no one holds is freed now
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

    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        if type(ref) is ObjectRef:  # rebuilt from its id
            ref = self.adopt(ref)
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
            proc.state = "killed"  # first: ending the task must not hand the worker back as idle
            self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
            self.procs.kill(proc)
        else:
            task.proc.send(("cancel", task.task_id))


def pg_id(strategy: Any) -> int | None:
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        return strategy.placement_group._record.pg_id
    return None
