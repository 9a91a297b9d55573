"""Actors on the sim backend: creation, mailboxes, sync/threaded/async execution, kill, names.

An actor is created by a task (its `__init__`) placed with the actor's placement demand; when
that succeeds the actor holds its lifetime demand and runs calls from its mailbox: one at a time
in submission order (sync), up to `max_concurrency` interleaved at blocking points (threaded),
or as coroutines on its own asyncio loop in virtual time (async). The records of actors and
calls live in `actor_records`.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

from greenlet import GreenletExit

from simray import _ids
from simray import exceptions as exc
from simray._actor import ActorHandle, ActorOptions
from simray._model import actors as ends
from simray._model.actors import ALIVE, DEAD, NamedActors
from simray._model.returns import raise_if_dependency_failed, split_returns
from simray._sim import exploration
from simray._sim.actor_atexit import ActorAtexit
from simray._sim.actor_records import ActorCall, ActorExit, ActorLoop, EndedCall, SimActor
from simray._sim.errors import task_error
from simray._sim.kernel import WorkerExit
from simray._sim.livelock import LivelockInterrupt
from simray._sim.objects import (
    ATOMIC,
    FAILED,
    PENDING,
    READY,
    SimRef,
    new_ref,
    owner_node,
    pack,
    unpack,
)

# How a call ended its actor's process (see `Actors._process_exit`).
_EXIT_ACTOR, _KILLED, _SYS_EXIT = 0, 1, 2


class _CreationOptions:
    """The options of an actor's creation task."""

    def __init__(self, opts: ActorOptions, actor: SimActor):
        self.actor = actor  # whose constructor this runs (the runtime context shows it)
        self.raw = opts.raw
        self.demand = opts.placement_demand
        self.strategy = opts.strategy
        self.sched_key = opts.sched_key
        self.label_selector = opts.label_selector
        self.max_retries = 0
        self.retry_exceptions = False
        self.name = f"{opts.class_name}.__init__"
        self.num_returns = 1
        self.submit_error = None
        self.simple = False  # a creation task takes the general submission path
        self.generator = None
        self.backpressure = None
        from simray._runtime_env import env_vars_of

        self.env_vars = env_vars_of(opts.raw.get("runtime_env"))


class Actors:
    """The actors of one sim session."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.kernel = backend.kernel
        self.names = NamedActors()
        self.all: list[SimActor] = []
        self._next_id = 0
        self.atexit_hook = ActorAtexit(self.kernel)  # installed by the backend, for its session

    # -- creation ----------------------------------------------------------------------------
    def create(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: ActorOptions
    ) -> ActorHandle:
        namespace = opts.namespace or self.backend.namespace
        exported = self.backend.exported.get(cls)
        cls = self.backend.export(cls) if exported is None else exported
        if opts.name is not None:
            existing = self.names.existing(namespace, opts)
            if existing is not None:
                return existing
        self._next_id += 1
        actor = SimActor(self._next_id, cls, opts, namespace)
        if opts.lifetime != "detached":  # Ray ends it once its handles and calls are gone
            actor.on_unreferenced = self._unreferenced
        handle = actor.handle()
        self.all.append(actor)
        self.names.add(actor)

        actor.init_args = (args, kwargs)
        self._start_creation(actor)
        return handle

    def _start_creation(self, actor: SimActor) -> None:
        """Run the actor's `__init__` as a task placed with the placement demand."""
        opts, cls = actor.opts, actor.cls

        def construct(*a: Any, **k: Any) -> None:
            task = self.kernel.current
            pids = self.backend.faults.pids
            pids.bind(task, actor)  # __init__ runs in the actor's process
            actor.node = task.node
            actor.pool = task.pool
            actor.env = task.env
            node = task.node
            kept = opts.lifetime_demand == opts.placement_demand
            if kept:
                # The actor keeps what its creation task was placed with, for its whole life.
                actor.holds = dict(opts.lifetime_demand)
                actor.gpu_shares, task.gpu_shares = task.gpu_shares, []
                task.node = None
            try:
                actor.instance = cls(*a, **k)
            except Exception:
                if kept:  # the constructor failed: its task ends as a failed task, on its node
                    task.node, task.gpu_shares = node, actor.gpu_shares
                    actor.holds, actor.gpu_shares = {}, []
                raise
            finally:
                pids.unbind(task)

        args, kwargs = actor.init_args
        ref = self.backend.submit_task(construct, args, kwargs, _CreationOptions(opts, actor))
        actor.creation = ref
        _ids.current.add_creation(ref._id, actor.actor_id)  # its TaskID names the actor
        ref.on_ready(lambda r: self._created(actor, r))

    def restart(self, actor: SimActor) -> None:
        """Create the actor again after its process died (its mailbox waits meanwhile)."""
        self.backend.recorder.record(
            "actor_restarting", actor=actor.actor_id, restart=actor.restarts
        )
        self._start_creation(actor)

    def _created(self, actor: SimActor, ref: SimRef) -> None:
        if actor.state == DEAD:
            return
        if ref.state == FAILED:
            cause = ref.stored
            self.die(
                actor, exc.ActorDiedError(cause if isinstance(cause, exc.RayTaskError) else None)
            )
            return
        actor.state = ALIVE
        self.backend.recorder.record("actor_alive", actor=actor.actor_id, node=actor.node.index)
        if actor.opts.is_async:
            loop_unit = actor.loop_unit = ActorLoop(actor)
            loop_unit.env = actor.env
            self.kernel.spawn(loop_unit, self._run_loop)
        self._pump(actor)

    # -- calls -------------------------------------------------------------------------------
    def submit(
        self,
        actor: SimActor,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        backend = self.backend
        group = actor.opts.call_group(method, concurrency_group)
        call_id = backend.ids.new_task()
        name = f"{actor.opts.class_name}.{method}"
        packed = [backend.pack_arg(a, name) for a in args]
        packed_kwargs = {k: backend.pack_arg(v, name) for k, v in kwargs.items()}
        call = ActorCall(call_id, actor, method, packed, packed_kwargs)
        call.created_at = backend.kernel.now
        table = backend.task_table
        table[call_id] = call
        backend.actor_order.append(call_id)
        if (
            len(table) > backend.task_table_cap
            or len(backend.actor_order) > 2 * backend.task_table_cap
        ):
            backend.trim_task_table()
        call.group = group
        generator = None
        if isinstance(num_returns, str):  # "streaming" or "dynamic": one ref, the completion
            generator = backend.start_stream(call, num_returns, actor.opts.raw)
            num_returns = 1
        # Numbered after the call and its actor (see `_ids.object_number`).
        number = call_id | (actor.actor_id << _ids.ACTOR_SHIFT)
        for index in range(num_returns):
            call.returns.append(new_ref(number | (index << _ids.INDEX_SHIFT), call))
        caller = backend.kernel.current
        if (
            caller is not backend.kernel.driver
        ):  # a task made these refs: Ray's owner is that worker
            for ref in call.returns:
                ref.owner = owner_node(caller)
        backend.recorder.record("submit", task=call.call_id, name=name, actor=actor.actor_id)
        if actor.state == DEAD or actor.exiting is not None:
            self.fail(call, actor.death or actor.exiting)
        else:
            deps = [a for a in packed if type(a) is SimRef and a.state != READY]
            deps += [v for v in packed_kwargs.values() if type(v) is SimRef and v.state != READY]
            call.deps_left = len(deps)
            for dep in deps:
                dep.on_ready(lambda ref, call=call: self._dep_resolved(call, ref))
            actor.mailbox.append(call)
            if backend.latency is not None:
                # The call keeps its mailbox place and runs once its latency is paid, so one
                # caller's calls keep their order whatever the kernel's order of equal times.
                call.deps_left += 1
                kernel = self.kernel
                kernel.call_at(kernel.now + backend.latency.actor_call, self._arrived, call)
            if backend.jitter:
                exploration.deliver_later(backend, call, self._dep_resolved)
            self._pump(actor)
        returns = call.returns
        if generator is not None:
            generator._generator_ref = returns[0]
            return generator
        if num_returns == 1:
            return returns[0]
        return returns if num_returns else None

    def _snapshot(self, call: ActorCall, error: BaseException | None) -> None:
        """The call ended: `ray.util.state` keeps what its row needs instead of the call."""
        table = self.backend.task_table
        if table.get(call.call_id) is call and call.state == "finished":
            ended = table[call.call_id] = EndedCall(call, error, self.backend.kernel.now)
            if ended.error is None:
                backend = self.backend
                backend.finished_order.append(call.call_id)
                if len(table) > backend.task_table_cap:
                    backend.trim_task_table()

    def _arrived(self, call: ActorCall) -> None:
        """A call's latency is paid: it may run when it reaches the head of the mailbox."""
        self._dep_resolved(call, None)

    def _dep_resolved(self, call: ActorCall, ref: SimRef) -> None:
        call.deps_left -= 1
        if call.deps_left == 0:
            self._pump(call.actor)

    def _pump(self, actor: SimActor) -> None:
        """Start calls from the head of the mailbox while concurrency allows (in order)."""
        if actor.state != ALIVE:
            return
        if actor.opts.groups:
            self._pump_groups(actor)
            return
        mailbox = actor.mailbox
        while (
            mailbox
            and mailbox[0].deps_left == 0
            and len(actor.running) < actor.opts.max_concurrency
        ):
            call = mailbox.popleft()
            if call.cancelled:
                continue
            call.state = "running"
            call.started_at = self.backend.kernel.now
            call.env = actor.env  # set by the constructor, which may run after the submission
            actor.running[call] = None
            self.backend.recorder.record("start", task=call.call_id, actor=actor.actor_id)
            self._start(actor, call)

    def _start(self, actor: SimActor, call: ActorCall) -> None:
        if actor.loop_unit is not None:
            self._to_loop(actor, call)
        else:
            self.kernel.spawn(call, self._run_call)

    def _pump_groups(self, actor: SimActor) -> None:
        """With concurrency groups each group is its own queue: a call starts once the calls of
        its group before it have started and its group runs fewer than the group's limit."""
        opts = actor.opts
        running: dict[str | None, int] = {}
        for call in actor.running:
            running[call.group] = running.get(call.group, 0) + 1
        blocked: set[str | None] = set()  # groups whose head call cannot start yet
        started: list[ActorCall] = []
        for call in actor.mailbox:
            group = call.group
            if call.cancelled or group in blocked:
                continue
            limit = opts.group_limit(group)
            if call.deps_left or running.get(group, 0) >= limit:
                blocked.add(group)
                continue
            running[group] = running.get(group, 0) + 1
            started.append(call)
        if not started:
            return
        chosen = set(started)
        actor.mailbox = deque(c for c in actor.mailbox if c not in chosen and not c.cancelled)
        for call in started:
            call.state = "running"
            call.started_at = self.backend.kernel.now
            call.env = actor.env
            actor.running[call] = None
            self.backend.recorder.record("start", task=call.call_id, actor=actor.actor_id)
            self._start(actor, call)

    def _args(self, call: ActorCall) -> tuple[list[Any], dict[str, Any]]:
        if not call.args and not call.kwargs:
            return [], {}  # a call without arguments (the common ping) has nothing to unpack
        failed = next(
            (
                a
                for a in [*call.args, *call.kwargs.values()]
                if type(a) is SimRef and a.state == FAILED
            ),
            None,
        )
        if failed is not None:
            raise_if_dependency_failed(failed.stored)
        args = [unpack(a.stored) if type(a) is SimRef else unpack(a) for a in call.args]
        kwargs = {
            k: unpack(v.stored) if type(v) is SimRef else unpack(v) for k, v in call.kwargs.items()
        }
        return args, kwargs

    def _run_call(self, call: ActorCall) -> None:
        """Body of a call on a sync or threaded actor."""
        said = ""  # what a SystemExit adds to the exit detail (SIGTERM's)
        try:
            if call.env is not self.kernel.env_now or call.interrupt:
                self.backend.switch_in(call)
            if call.method == "__ray_terminate__":
                self._terminate(call)
                return
            args, kwargs = self._args(call)
            if call.method == "__ray_ready__":
                result = True
            else:
                result = getattr(call.actor.instance, call.method)(*args, **kwargs)
            if call.call_id in self.backend.generating:
                result = self.backend.drive_generator(call, result)
        except (GreenletExit, LivelockInterrupt):
            raise
        except ActorExit:
            ending, exit_code = _EXIT_ACTOR, None
        except WorkerExit:  # os._exit or a signal to itself: the actor's process is gone
            ending, exit_code = _KILLED, None
        except SystemExit as stop:  # sys.exit: the actor's process exits as Python does
            ending, exit_code, said = _SYS_EXIT, stop.code, getattr(stop, "said", "")
        except BaseException as error:  # the method's failure is its result
            self._call_done(call, error=error)
            return
        else:
            self._call_done(call, result=result)
            return
        self._process_exit(call, ending, exit_code, said)

    def _process_exit(self, call: ActorCall, ending: int, exit_code: Any, said: str) -> None:
        """`call` ended its actor's process. Called once the exception that said so is gone:
        its traceback held the method's frame, whose `self` would keep `__del__` from running
        before the atexit handlers (Ray's worker finishes the task, then exits)."""
        if ending == _EXIT_ACTOR:
            self._exit(call)
        else:
            self.backend.faults.crash_actor_call(call, ending == _SYS_EXIT, exit_code, said)

    def _call_done(
        self, call: ActorCall, result: Any = None, error: BaseException | None = None
    ) -> None:
        actor = call.actor
        if call not in actor.running:
            return  # the actor died meanwhile and already failed this call
        del actor.running[call]
        call.state = "finished"
        call.ended_at = self.backend.kernel.now
        if call.cancelled and call.atask is not None:
            # Ray answers a cancelled async call with TaskCancelledError even when the
            # coroutine caught the CancelledError and returned.
            error, result = exc.TaskCancelledError(call.hex()), None
        if error is None and len(call.returns) == 1 and type(result) in ATOMIC:
            # The commonest end: one immutable scalar, stored as it is.
            ref = call.returns[0]
            if ref.state == PENDING:  # not failed already by a cancel
                ref.resolve(READY, result)
        elif error is None:
            outputs = split_returns(result, len(call.returns))
            if type(outputs) is ValueError:
                error = outputs
            else:
                try:
                    stored = [v if type(v) in ATOMIC else pack(v) for v in outputs]
                except Exception as e:
                    error = TypeError(
                        f"Could not serialize the return value of {call.method}(): {e}"
                    )
                else:
                    for ref, value in zip(call.returns, stored, strict=True):
                        if ref.state == PENDING:  # not failed already by a cancel
                            ref.resolve(READY, value)
        if error is not None:
            cancelled_error = getattr(
                sys.modules.get("asyncio"), "CancelledError", KeyboardInterrupt
            )
            if call.cancelled and isinstance(error, (KeyboardInterrupt, cancelled_error)):
                error = exc.TaskCancelledError(call.hex())
            stored_error = task_error(
                f"{actor.opts.class_name}.{call.method}",
                error,
                actor.node.ip,
                self.backend.faults.pids.of(call),
                actor_repr=f"<{actor.opts.class_name} object>",
                actor_id=actor.hex(),
            )
            for ref in call.returns:
                if ref.state == PENDING:
                    ref.resolve(FAILED, stored_error)
        self.backend.recorder.record("finish", task=call.call_id, ok=error is None)
        self._snapshot(call, error)
        call.args = call.kwargs = None
        if self.backend.generating:
            self.backend.end_stream(call.call_id)
        if actor.exiting is not None:
            if not actor.running:
                self._graceful_death(actor, actor.exiting)
            return
        self._pump(actor)
        if not actor.running and not actor.mailbox and actor.on_unreferenced is not None:
            self._unreferenced(actor)

    def fail(self, call: ActorCall, error: BaseException | None) -> None:
        """End a call with `error` stored in its returns (cancel, faults and deaths use it)."""
        actor = call.actor
        if call not in actor.running:
            call.state = "finished"
            call.ended_at = self.backend.kernel.now
        for ref in call.returns:
            if ref.state == PENDING:
                ref.resolve(FAILED, error)
        self._snapshot(call, error)
        if self.backend.generating:
            self.backend.end_stream(call.call_id)
        if actor.state != DEAD and actor.on_unreferenced is not None:
            self._unreferenced(actor)  # a cancelled queued call no longer keeps it

    # -- out of scope ------------------------------------------------------------------------
    def _unreferenced(self, actor: SimActor) -> None:
        """The last strong handle is gone, or a call ended: look at the actor's scope once the
        current step is over (a weakref callback may run anywhere, even inside the kernel)."""
        if actor.live_handle() is None:
            self.kernel.call_soon(self._check_scope, actor)

    def _check_scope(self, actor: SimActor) -> None:
        """Ray's owner reports a non-detached actor out of scope once no handle of it lives and
        no call to it is pending (a submitted call holds a reference to it until it ends); the
        GCS then ends its process gracefully: atexit handlers and `__del__` run, its resources
        return, its name is free and calls through `get_actor` handles raise ActorDiedError."""
        if (
            actor.state == DEAD
            or actor.exiting is not None
            or actor.running
            or actor.mailbox
            or actor.live_handle() is not None
        ):
            return
        actor.never_started = actor.state != ALIVE
        self.die(
            actor, ends.out_of_scope(actor, pid=self.pid(actor)), graceful=actor.state == ALIVE
        )

    # -- async actors ------------------------------------------------------------------------
    def _run_loop(self, unit: ActorLoop) -> None:
        import asyncio

        loop = asyncio.new_event_loop()
        unit.aloop = loop
        try:
            loop.run_forever()
        except GreenletExit:
            raise
        finally:
            if not loop.is_running():
                loop.close()

    def _to_loop(self, actor: SimActor, call: ActorCall) -> None:
        unit = actor.loop_unit
        assert unit is not None
        loop = unit.aloop
        if loop is None:  # the loop unit has not started yet: it picks calls up when it does
            self.kernel.call_soon(lambda _: self._to_loop(actor, call))
            return
        loop.call_soon(lambda: loop.create_task(self._run_async_call(call)))
        if unit.blocked_on is not None and unit.blocked_on[0] == "asyncio":
            self.kernel.wake(unit)

    async def _run_async_call(self, call: ActorCall) -> None:
        import asyncio

        said = ""  # what a SystemExit adds to the exit detail (SIGTERM's)
        call.atask = asyncio.current_task()
        call.atask.simray_call = call  # type: ignore[union-attr]
        if call.method == "__ray_terminate__":
            self._terminate(call)
            return
        try:
            args, kwargs = self._args(call)
            if call.method == "__ray_ready__":
                result: Any = True
            else:
                result = getattr(call.actor.instance, call.method)(*args, **kwargs)
            if asyncio.iscoroutine(result):
                result = await result
            if call.call_id in self.backend.generating:
                result = await self.backend.drive_async_generator(call, result)
        except LivelockInterrupt as interrupt:
            # asyncio's task would keep it as the coroutine's failure: the driver gets it.
            self.kernel.livelocked(interrupt)
        except exc.AsyncioActorExit:
            ending, exit_code = _EXIT_ACTOR, None
        except WorkerExit:  # os._exit or a signal to itself: the actor's process is gone
            ending, exit_code = _KILLED, None
        except SystemExit as stop:  # sys.exit: the actor's process exits as Python does
            ending, exit_code, said = _SYS_EXIT, stop.code, getattr(stop, "said", "")
        except BaseException as error:  # the method's failure is its result
            self._call_done(call, error=error)
            return
        else:
            self._call_done(call, result=result)
            return
        self._process_exit(call, ending, exit_code, said)

    # -- death -------------------------------------------------------------------------------
    def _exit(self, call: ActorCall) -> None:
        """`exit_actor()` in `call`: its caller sees the actor's death, queued calls fail, calls
        still running (threaded, async) finish first, then the actor ends without restart."""
        actor = call.actor
        actor.running.pop(call, None)
        call.state = "finished"
        call.ended_at = self.backend.kernel.now
        error = ends.exited(actor, pid=self.pid(actor))
        if actor.running:
            # Ray: the actor is still alive (other calls run), so this caller is told that it is
            # unavailable rather than dead.
            self.fail(call, ends.exited_while_busy(actor))
        else:
            self.fail(call, error)
        self.backend.recorder.record("finish", task=call.call_id, ok=False)
        actor.exiting = error
        while actor.mailbox:
            self.fail(actor.mailbox.popleft(), error)
        if not actor.running:
            self._graceful_death(actor, error)

    def _graceful_death(self, actor: SimActor, error: BaseException) -> None:
        """The worker process ends by itself: atexit handlers run, the name stays taken while a
        handle lives (as in Ray)."""
        self.die(actor, error, release_name=False, graceful=True)

    def _terminate(self, call: ActorCall) -> None:
        actor = call.actor
        actor.running.pop(call, None)
        for ref in call.returns:
            ref.resolve(READY, None)
        self.die(
            actor, ends.terminated(actor, pid=self.pid(actor)), release_name=False, graceful=True
        )

    def kill(self, actor: SimActor, no_restart: bool = True) -> None:
        """`ray.kill`: the actor's process is killed (nothing of it runs); with
        `no_restart=False` it restarts as after a crash while `max_restarts` lasts."""
        if actor.state == DEAD:
            return
        if not no_restart and actor.state == ALIVE and ends.may_restart(actor):
            self.backend.faults.actor_process_died(actor, ends.KILLED_IN_FLIGHT)
            return
        self.die(actor, ends.killed(actor, pid=self.pid(actor), restart_allowed=not no_restart))

    def pid(self, actor: SimActor) -> int:
        """The pid of the actor's process, as Ray's texts about its end show it (the one its
        `os.getpid()` and output prefix show); 0 while it has no node, as Ray leaves it out."""
        return self.backend.faults.pids.of_actor(actor) if actor.node is not None else 0

    def die(
        self,
        actor: SimActor,
        error: BaseException,
        release_name: bool = True,
        graceful: bool = False,
    ) -> None:
        """The actor dies with `error`: its calls fail with it (faults and groups use it). A
        graceful end runs its `__del__` and atexit handlers; a kill or a crash runs neither."""
        actor.death_pid = self.pid(actor)  # before the state changes: list_actors shows it
        actor.state = DEAD
        actor.death = error
        actor.on_unreferenced = None
        # Its process is gone: what its instance held (handles of other actors, refs) goes too.
        self.atexit_hook.process_ends(actor, graceful)
        self.backend.recorder.record("actor_died", actor=actor.actor_id)
        if release_name:
            self.names.release(actor)
        creation = actor.creation.task if actor.creation is not None else None
        if creation is not None and creation.state != "finished":
            self.backend.cancel_task(creation, force=True, recursive=False)
        current = self.kernel.current
        for call in list(actor.running):
            actor.running.pop(call, None)
            if call is not current and call.glet is not None:
                self.kernel.abandon(call)
            self.fail(call, error)
        if actor.loop_unit is not None and actor.loop_unit is not current:
            self.kernel.abandon(actor.loop_unit)
        while actor.mailbox:
            self.fail(actor.mailbox.popleft(), error)
        if actor.node is not None and (actor.holds or actor.gpu_shares):
            actor.pool.release(actor.holds, actor.gpu_shares)
            actor.holds, actor.gpu_shares = {}, []
            self.backend.scheduler.dispatch()
        self.backend.locks.release_all_of(lambda unit: getattr(unit, "actor", None) is actor)

    def current_async_call(self) -> ActorCall | None:
        """The call whose coroutine runs now on an async actor's loop."""
        import asyncio

        try:
            task = asyncio.current_task()
        except RuntimeError:
            return None
        return getattr(task, "simray_call", None)

    def cancel_running(self, call: ActorCall) -> None:
        """Ray cancels a running async call as an asyncio task; a sync one only sees
        `get_runtime_context().is_canceled()` turn true."""
        unit = call.actor.loop_unit
        if call.atask is not None and unit is not None and unit.aloop is not None:
            unit.aloop.call_soon(call.atask.cancel)
            if unit.blocked_on is not None and unit.blocked_on[0] == "asyncio":
                self.kernel.wake(unit)
        else:
            # Ray answers the caller at once; the method runs on and its result is dropped.
            self.fail(call, exc.TaskCancelledError(call.hex()))

    def list_named(self, all_namespaces: bool) -> list[dict[str, str]]:
        return self.names.listed(all_namespaces, self.backend.namespace)

    def get_named(self, name: str, namespace: str | None) -> ActorHandle:
        return self.names.get(name, namespace or self.backend.namespace)
