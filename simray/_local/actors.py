"""Actors on the local backend: each lives in its own worker process until it dies.

The driver keeps the record (placement, held resources, mailbox, restarts, name); calls leave
the mailbox in submission order once their arguments are ready and are queued in the actor's
process, which runs them one at a time (sync), on `max_concurrency` threads, or as coroutines.
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from simray import exceptions as exc
from simray._actor import ActorHandle, ActorOptions
from simray._context_fields import effective_env, placement_group_fields
from simray._local import serialization as ser
from simray._local.ids import actor_hex, creation_bits, object_id, task_bits
from simray._local.objects import FAILED, PENDING, READY
from simray._local.tasks import QUEUED, LocalTask, pg_id
from simray._model import actors as ends
from simray._model.actors import ALIVE, DEAD, PENDING_CREATION, ActorRecord, NamedActors
from simray._model.resources import to_floats
from simray._sim.scheduler import node_labels

RESTARTING = "restarting"
EXITING = "exiting"  # exit_actor() was called; running calls finish, then the process ends


class LocalActor(ActorRecord):
    """One actor's record in the driver."""

    def __init__(self, actor_id: int, cls: type, opts: ActorOptions, namespace: str):
        super().__init__(actor_id, cls, opts, namespace)
        self.proc: Any = None
        self.inflight: dict[int, Call] = {}
        self.exiting: str | None = None
        self.exit_error: BaseException | None = None
        # (code, said): a method called sys.exit(code), or SIGTERM's handler did (it says so)
        self.sys_exit: tuple[Any, str] | None = None
        self.pid = 0  # its current (or last) process's: what Ray's texts about its end name
        self.env_vars: dict[str, str] | None = None
        self.init_args: Any = None
        self.cls_blob = b""
        # Its handle was written where no count follows it (a put, a worker's return or put, an
        # exported function): copies may live anywhere, so it is not ended out of scope.
        self.escaped = False
        # Ray's borrowers: pending tasks and calls whose arguments carry its handle (and
        # constructors not run yet), and worker processes it was lent to (-> handles lent).
        self.pins = 0
        self.holders: dict[Any, int] = {}
        self.init_pins: list[LocalActor] = []

    def hex(self) -> str:
        return actor_hex(self.actor_id)


class Call:
    """One method call."""

    def __init__(self, call_id: int, actor: LocalActor, method: str, args: Any, kwargs: Any):
        self.call_id = call_id
        self.bits = task_bits(call_id, actor.actor_id)  # its TaskID as an integer
        self.actor = actor
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.deps: list[Any] = []
        self.returns: list[Any] = []
        self.cancelled = False
        self.finished = False
        self.attempts = 1
        self.gen: tuple[str, int | None] | None = None  # (mode, backpressure) of a generator
        self.group: str | None = None  # its concurrency group; None: the default group
        self.nested: list[Any] = []  # entries of refs nested in its arguments
        self.actor_pins: list[Any] = []  # actors whose handles its arguments carry
        self.pid = 0  # the actor's process that ran it
        # seconds since the session started (the state API's times)
        self.created_at = 0.0
        self.started_at: float | None = None
        self.ended_at: float | None = None

    def hex(self) -> str:
        return f"{self.bits:048x}"


class _CreationOptions:
    """The options of an actor's creation task (placed with the placement demand)."""

    def __init__(self, opts: ActorOptions):
        self.demand = opts.placement_demand
        self.strategy = opts.strategy
        self.sched_key = opts.sched_key
        self.label_selector = opts.label_selector
        self.max_retries = 0
        self.retry_exceptions = False
        self.name = f"{opts.class_name}.__init__"
        self.num_returns = 0


class Actors:
    """The actors of one local session."""

    def __init__(self, backend: Any):
        self.b = backend
        self.by_id: dict[int, LocalActor] = {}
        self.names = NamedActors()
        # Each class is exported once per job, at its first creation, as Ray exports it: the
        # __main__ globals it uses are captured then (id -> (blob, class), the class kept alive).
        self._blobs: dict[int, tuple[bytes, type]] = {}

    # -- creation ----------------------------------------------------------------------------
    def create(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: ActorOptions
    ) -> ActorHandle:
        namespace = opts.namespace or self.b.namespace
        if opts.name is not None:
            existing = self.names.existing(namespace, opts)
            if existing is not None:
                return existing
        exported = self._blobs.get(id(cls))
        if exported is not None and exported[1] is cls:
            blob = exported[0]
        else:
            try:
                blob = ser.dumps_code(cls, self.b.token)
            except Exception as e:
                raise TypeError(
                    f"Could not serialize the actor class {cls.__name__}: {type(e).__name__}: {e}"
                ) from e
            self._blobs[id(cls)] = (blob, cls)
        actor = LocalActor(len(self.by_id) + 1, cls, opts, namespace)
        actor.cls_blob = blob
        from simray._runtime_env import env_vars_of, merged

        actor.env_vars = merged(self.b.job_env_vars, env_vars_of(opts.raw.get("runtime_env")))
        actor.init_args = self.b.pack_args(args, kwargs, f"{opts.class_name}.__init__")
        actor.init_pins = list(actor.init_args[4])  # until its constructor has run
        if opts.lifetime != "detached":  # Ray ends it once its handles and calls are gone
            actor.on_unreferenced = self._unreferenced
        handle = actor.handle()
        self.by_id[actor.actor_id] = actor
        self.names.add(actor)
        self._start_creation(actor)
        return handle

    def _start_creation(self, actor: LocalActor) -> None:
        task = LocalTask(self.b.ids.new_task(), 0, [], {}, _CreationOptions(actor.opts))
        task.actor = actor
        task.bits = creation_bits(actor.actor_id)
        actor.creation = task
        self.b.task_table.add(task.task_id, task)

        def queue() -> None:
            if actor.state == DEAD or task.state != "waiting for arguments":
                return
            task.state = QUEUED
            self.b.scheduler.submit(task)

        self.b.when_ready(actor.init_args[2], queue)

    def placed(self, task: Any) -> None:
        """The creation task got its node: the actor gets a process of its own."""
        actor = task.actor
        opts = actor.opts
        actor.node = task.node
        actor.pool = task.pool
        if opts.lifetime_demand == opts.placement_demand:
            # The actor keeps what its creation was placed with, for its whole life.
            actor.holds = dict(opts.lifetime_demand)
            actor.gpu_shares, task.gpu_shares = task.gpu_shares, []
            task.pool = None
        self.b.with_worker(lambda proc: self._send_create(proc, actor, task), task)

    def _send_create(self, proc: Any, actor: LocalActor, task: Any) -> None:
        proc.state = "actor"
        proc.actor = actor
        proc.node = actor.node
        actor.proc = proc
        actor.pid = task.pid = proc.pid
        task.started_at = self.b.now()
        actor.exiting = None
        args, kwargs, _, nested, pins = actor.init_args
        b = self.b
        args, kwargs = b.args_for_worker(proc, args, kwargs, nested)
        self.lend(proc, pins)
        opts = actor.opts
        # With concurrency groups each group (the default one too) gets threads of its own.
        threaded = opts.max_concurrency > 1 or opts.groups
        mode = "async" if opts.is_async else "threaded" if threaded else "sync"
        gpu_ids = actor.gpu_ids()
        ctx = {
            "node_id": actor.node.node_id,
            "ip": actor.node.ip,
            "task_id": None,
            "creation_task": task.bits,  # its puts' TaskID (`_local.ids`)
            "attempt": actor.restarts,
            "actor_id": actor.hex(),
            "assigned": to_floats(opts.placement_demand),
            "gpu_ids": gpu_ids,
            "namespace": b.namespace,
            "worker": True,
            "class_name": opts.class_name,
            "name": opts.class_name,
            "cuda": ",".join(map(str, gpu_ids)) if actor.gpu_shares else b.driver_cuda,
            "strategy_pg": pg_id(opts.strategy),
            "actor_name": opts.name or "",
            "restarts": actor.restarts,
            "worker_id": f"{proc.pid:056x}",
            "labels": node_labels(actor.node),
            "runtime_env": effective_env(opts.raw, actor.env_vars),
            "env_vars": actor.env_vars,
            "held": to_floats(actor.holds),
            **placement_group_fields(opts.strategy),
        }
        limits = {None: opts.max_concurrency, **opts.groups}
        proc.send(("actor", actor.actor_id, actor.cls_blob, args, kwargs, mode, limits, ctx))

    def _creation_over(self, actor: LocalActor, error: BaseException | None = None) -> None:
        task = actor.creation
        if task is None or task.state == "finished":
            return
        b = self.b
        if task.state == "queued":
            b.scheduler.withdraw(task)
        b._drop_waiting(task)
        b.running.pop(task.task_id, None)
        b._release(task)
        task.state = "finished"
        b.task_table.ended(task.task_id, task, error)
        b.scheduler.dispatch()

    def message(self, proc: Any, msg: Any) -> None:
        actor = proc.actor
        if actor is None or actor.proc is not proc:
            return
        kind = msg[0]
        if kind == "created":
            report = msg[2]
            cause = _error_of(report, actor, None) if report is not None else None
            self._creation_over(actor, cause)
            if actor.state == DEAD:
                return
            if report is None:
                actor.state = ALIVE
                # Ray lets the constructor's arguments' handles go once it has run (a restart
                # then loads them again; what it kept, its process holds).
                pins, actor.init_pins = actor.init_pins, []
                self._pump(actor)
                self.unpin(pins)
                return
            self._die(
                actor, exc.ActorDiedError(cause if isinstance(cause, exc.RayTaskError) else None)
            )
        elif kind == "cdone":
            call = actor.inflight.pop(msg[1], None)
            if call is not None:
                call.finished = True
                outputs = msg[2]
                if call.gen is not None:
                    outputs = self.b.stream_value(call.call_id, outputs)
                table = self.b.table
                for entry, wire in zip(call.returns, outputs, strict=False):
                    table.hold(entry, *table.take(wire))
                self.b.unit_ended(call.call_id, call, None)
            self._maybe_quit(actor)
            self._call_over(actor)
        elif kind == "cerror":
            call = actor.inflight.pop(msg[1], None)
            if call is not None:
                call.finished = True
                error = _error_of(msg[2], actor, call)
                for entry in call.returns:
                    entry.resolve(FAILED, None, error)
                self.b.unit_ended(call.call_id, call, error)
            self._maybe_quit(actor)
            self._call_over(actor)
        elif kind == "exiting":
            actor.exiting = msg[1]
        elif kind == "sys_exit":
            actor.sys_exit = (msg[1], msg[2])
        elif kind == "exit_call":
            self._exit_call(actor, msg[1])

    def _exit_call(self, actor: LocalActor, call_id: int) -> None:
        """`exit_actor()` in a call: its caller sees the actor's death, queued calls fail, calls
        still running (threaded, async) finish first, then the process ends without restart."""
        call = actor.inflight.pop(call_id, None)
        error = ends.exited(actor, pid=actor.pid)
        if call is not None:
            if actor.inflight:
                # Ray: the actor is still alive (other calls run), so this caller is told that
                # it is unavailable rather than dead.
                self._fail(call, ends.exited_while_busy(actor))
            else:
                self._fail(call, error)
        actor.exiting = "exit_actor"
        actor.exit_error = error
        actor.state = EXITING
        while actor.mailbox:
            self._fail(actor.mailbox.popleft(), error)
        self._maybe_quit(actor)

    def _maybe_quit(self, actor: LocalActor) -> None:
        if actor.state == EXITING and not actor.inflight and actor.proc is not None:
            actor.proc.send(("exit",))

    # -- out of scope ------------------------------------------------------------------------
    def _unreferenced(self, actor: LocalActor) -> None:
        """The driver's last strong handle is gone (a weakref callback: any thread, any
        moment): look at the actor's scope on the I/O thread, under the lock."""
        if actor.escaped or self.b.closed or actor.live_handle() is not None:
            return  # (closed: the wake-up pipe's descriptor may already name another file)
        try:
            self.b.call_soon(lambda: self._check_scope(actor))
        except OSError:  # the session is over: shutdown ends every actor
            pass

    def pin(self, actors: list[LocalActor]) -> None:
        """A pending call's arguments carry these actors' handles: they live until it ends."""
        for actor in actors:
            actor.pins += 1

    def unpin(self, actors: list[LocalActor]) -> None:
        for actor in actors:
            actor.pins -= 1
            if not actor.pins:
                self._call_over(actor)

    def lend(self, proc: Any, actors: list[LocalActor]) -> None:
        """`proc` is sent a handle of each of `actors` (one per handle it will load): it holds
        them until it reports them gone (see `borrowed`)."""
        for actor in actors:
            actor.holders[proc] = actor.holders.get(proc, 0) + 1

    def borrowed(self, proc: Any, events: list[tuple[str, int, int]]) -> None:
        """A worker dropped its last handle of an actor, having loaded `n` ("drop"), or wrote
        one into a value ("escape"): Ray's borrower reports, in the order they happened."""
        for kind, actor_id, n in events:
            actor = self.by_id.get(actor_id)
            if actor is None:
                continue
            if kind == "drop":
                left = actor.holders.get(proc, 0) - n
                if left > 0:
                    actor.holders[proc] = left  # lent again meanwhile: still on its way
                else:
                    actor.holders.pop(proc, None)
                    self._call_over(actor)
            else:
                actor.escaped = True

    def holder_gone(self, proc: Any) -> None:
        """A worker process ended: the handles it held are gone with it."""
        for actor in self.by_id.values():
            if actor.holders.pop(proc, None) is not None:
                self._call_over(actor)

    def _call_over(self, actor: LocalActor) -> None:
        if not actor.mailbox and not actor.inflight and actor.on_unreferenced is not None:
            self._unreferenced(actor)

    def _check_scope(self, actor: LocalActor) -> None:
        """Ray's owner reports a non-detached actor out of scope once no handle of it lives and
        no call to it is pending; the GCS then ends it: a live one exits as by request (atexit
        handlers run; its resources return when its process is gone), one still being created
        is killed; its name is free at once and calls through `get_actor` handles raise
        ActorDiedError."""
        if (
            actor.on_unreferenced is None
            or actor.escaped
            or actor.pins
            or actor.holders
            or actor.mailbox
            or actor.inflight
            or actor.live_handle() is not None
        ):
            return
        actor.on_unreferenced = None
        actor.never_started = actor.state != ALIVE
        pid = actor.proc.pid if actor.proc is not None and actor.state == ALIVE else 0
        error = ends.out_of_scope(actor, pid=pid)
        if actor.state == ALIVE and actor.proc is not None:
            self.names.release(actor)
            actor.exiting = "out_of_scope"
            actor.exit_error = error
            actor.state = EXITING
            self._maybe_quit(actor)
        elif actor.state in (PENDING_CREATION, RESTARTING):
            self._die(actor, error)

    # -- calls -------------------------------------------------------------------------------
    def submit(
        self,
        actor: LocalActor,
        method: str,
        args: Any,
        kwargs: Any,
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        b = self.b
        group = actor.opts.call_group(method, concurrency_group)
        name = f"{actor.opts.class_name}.{method}"
        packed, kw, deps, nested, pins = b.pack_args(args, kwargs, name)
        call = Call(b.ids.new_task(), actor, method, packed, kw)
        call.deps = deps
        call.nested = nested
        call.actor_pins = pins
        b.task_table.add(call.call_id, call)
        call.group = group
        mode = num_returns if isinstance(num_returns, str) else None
        if mode is not None:  # "streaming" or "dynamic": one ref, the completion
            num_returns = 1
        refs = [b.new_ref(object_id(call.bits, i), call) for i in range(1, num_returns + 1)]
        call.returns = [r.entry for r in refs]
        generator = None
        if mode is not None:
            backpressure = actor.opts.raw.get("_generator_backpressure_num_objects")
            generator = b.start_stream(call, refs[0], mode, backpressure)
        if actor.state == DEAD:
            self._fail(call, actor.death)
        elif actor.state == EXITING:
            self._fail(call, actor.exit_error)
        else:
            actor.mailbox.append(call)
            pending = [d for d in deps if d.state == PENDING]
            if pending:
                b.when_ready(pending, lambda: self._pump(actor))
            else:
                self._pump(actor)
        if generator is not None:
            return generator
        if num_returns == 1:
            return refs[0]
        return refs if num_returns else None

    def _pump(self, actor: LocalActor) -> None:
        """Send calls from the head of the mailbox, in order, while their arguments are ready."""
        if actor.state != ALIVE:
            return
        b = self.b
        mailbox = actor.mailbox
        while mailbox and all(d.state != PENDING for d in mailbox[0].deps):
            call = mailbox.popleft()
            if call.cancelled:
                continue
            actor.inflight[call.call_id] = call
            call.pid = actor.proc.pid
            call.started_at = b.now()
            args, kwargs = b.args_for_worker(actor.proc, call.args, call.kwargs, call.nested)
            self.lend(actor.proc, call.actor_pins)
            n = call.gen if call.gen is not None else len(call.returns)
            actor.proc.send(
                ("call", call.call_id, call.method, args, kwargs, n, call.group, call.attempts - 1)
            )

    def _fail(self, call: Call, error: BaseException | None) -> None:
        call.finished = True
        for entry in call.returns:
            entry.resolve(FAILED, None, error)
        self.b.unit_ended(call.call_id, call, error)
        if call.actor.state != DEAD:
            self._call_over(call.actor)  # a cancelled queued call no longer keeps it

    def cancel_call(self, call: Call, force: bool) -> None:
        """Ray: a queued call never runs; a running one sees `is_canceled()` (sync) or
        asyncio cancellation (async); force is refused for actor calls."""
        if force:
            raise ValueError(
                "force=True is not supported for actor tasks. Use ray.kill() to kill the actor."
            )
        if call.finished:
            return
        call.cancelled = True
        actor = call.actor
        if call in actor.mailbox:
            actor.mailbox.remove(call)
            self._fail(call, exc.TaskCancelledError(call.hex()))
        elif call.call_id in actor.inflight:
            actor.proc.send(("cancel", call.call_id))
            if not actor.opts.is_async:
                # Ray answers the caller at once; the method runs on and its result is dropped.
                actor.inflight.pop(call.call_id, None)
                self._fail(call, exc.TaskCancelledError(call.hex()))

    # -- death -------------------------------------------------------------------------------
    def kill(self, actor: LocalActor, no_restart: bool = True) -> None:
        """`ray.kill`: the actor's process is killed; with `no_restart=False` it restarts as
        after a crash while `max_restarts` lasts."""
        if actor.state == DEAD:
            return
        if not no_restart and actor.state == ALIVE and ends.may_restart(actor):
            proc, actor.proc = actor.proc, None
            if proc is not None:
                self.b.procs.kill(proc)
            self.process_lost(actor, ends.KILLED_IN_FLIGHT)
            return
        pid = actor.proc.pid if actor.proc is not None else 0
        self._die(actor, ends.killed(actor, pid=pid, restart_allowed=not no_restart))

    def _die(self, actor: LocalActor, error: BaseException, release_name: bool = True) -> None:
        actor.death_pid = actor.pid if actor.node is not None else 0  # list_actors shows it
        actor.state = DEAD
        actor.death = error
        actor.on_unreferenced = None
        if actor.init_args is not None:  # never created again: its arguments are let go
            _, _, deps, nested, _ = actor.init_args
            actor.init_args = None
            self.b.table.unpin(deps + nested)
        pins, actor.init_pins = actor.init_pins, []
        self.unpin(pins)
        if release_name:
            self.names.release(actor)
        self._creation_over(actor)
        proc, actor.proc = actor.proc, None
        if proc is not None:
            self.b.procs.kill(proc)
        for call in list(actor.inflight.values()):
            self._fail(call, error)
        actor.inflight.clear()
        while actor.mailbox:
            self._fail(actor.mailbox.popleft(), error)
        self._release(actor)

    def _release(self, actor: LocalActor) -> None:
        if actor.pool is not None and (actor.holds or actor.gpu_shares):
            actor.pool.release(actor.holds, actor.gpu_shares)
            self.b.scheduler.dispatch()
        actor.holds, actor.gpu_shares = {}, []

    def process_died(self, proc: Any) -> None:
        actor = proc.actor
        if actor.proc is not proc or actor.state == DEAD:
            return
        actor.proc = None
        if actor.exiting is not None:
            for call in list(actor.inflight.values()):
                if call.method == "__ray_terminate__":
                    self._fail_or_none(call)
            self._die(
                actor,
                release_name=False,
                error=actor.exit_error or ends.terminated(actor, pid=actor.pid),
            )
            return
        if actor.sys_exit is not None:  # sys.exit(code) in a method: Python exited
            (code, said), actor.sys_exit = actor.sys_exit, None
            if code == 0:  # an intended exit: no restart (Ray 2.60)
                self._die(actor, ends.sys_exited(actor, pid=proc.pid), release_name=False)
                return
            detail, told = ends.sys_exit_details(code, said)
        else:  # os._exit, a signal: the process vanished
            detail, told = ends.CONNECTION_LOST, ends.KILLED_IN_FLIGHT
        self._creation_over(actor)
        self.process_lost(actor, detail, told)

    def _fail_or_none(self, call: Call) -> None:
        call.finished = True
        for entry in call.returns:
            entry.resolve(READY, ("v", None))
        self.b.unit_ended(call.call_id, call, None)
        call.actor.inflight.pop(call.call_id, None)

    def process_lost(self, actor: LocalActor, detail: str, told: str | None = None) -> None:
        """The actor's process died: restart it if it may, else it is dead (`detail` says
        why; calls in flight that do not retry are told `told`, default `detail`)."""
        can_restart = ends.may_restart(actor)
        in_flight = list(actor.inflight.values())
        actor.inflight.clear()
        self._release(actor)
        if not can_restart:
            self._die(actor, ends.process_died(actor, detail, pid=actor.pid))
            for call in in_flight:
                self._fail(call, actor.death)
            return
        actor.restarts += 1
        actor.state = RESTARTING
        for call in reversed(in_flight):
            if ends.may_retry(actor, call):
                call.attempts += 1
                call.started_at = None
                actor.mailbox.appendleft(call)
            else:
                self._fail(call, ends.unavailable(actor, told or detail))
        self._start_creation(actor)
        self.b.scheduler.dispatch()

    def node_died(self, node: Any) -> None:
        for actor in [a for a in self.by_id.values() if a.node is node and a.state == ALIVE]:
            proc, actor.proc = actor.proc, None
            if proc is not None:
                self.b.procs.kill(proc)
            actor.pool = None
            actor.holds, actor.gpu_shares = {}, []
            self.process_lost(actor, "the node it was running on died")

    def pools_removed(self, pools: set[int]) -> None:
        for actor in [a for a in self.by_id.values() if id(a.pool) in pools and a.state != DEAD]:
            actor.pool, actor.holds, actor.gpu_shares = None, {}, []
            self._die(
                actor,
                exc.ActorDiedError(
                    class_name=actor.opts.class_name,
                    actor_id=actor.hex(),
                    namespace=actor.namespace,
                    error_message="The actor is dead because its placement group was removed.",
                ),
            )

    def unschedulable(self, task: Any, error: BaseException) -> None:
        actor = task.actor
        task.state = "finished"
        self.b.task_table.ended(task.task_id, task, error)
        self._die(actor, exc.ActorDiedError(error if isinstance(error, exc.RayTaskError) else None))

    # -- names -------------------------------------------------------------------------------
    def list_named(self, all_namespaces: bool) -> list[dict[str, str]]:
        return self.names.listed(all_namespaces, self.b.namespace)

    def get_named(self, name: str, namespace: str | None) -> ActorHandle:
        return self.names.get(name, namespace or self.b.namespace)


def _error_of(report: Any, actor: LocalActor, call: Call | None) -> BaseException:
    kind, payload = report
    if kind == "cancelled":
        return exc.TaskCancelledError(call.hex() if call is not None else None)
    if kind == "unserializable":
        return exc.UnserializableException(payload)
    return cloudpickle.loads(payload)
