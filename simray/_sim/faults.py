"""Failures on the sim backend: dead nodes, crashed workers, killed actor processes.

Consequences follow Ray: a task whose worker or node dies is retried while `max_retries` lasts
(system failures only), else it fails with `WorkerCrashedError` / `NodeDiedError`; an actor whose
process dies restarts while `max_restarts` lasts, its in-flight calls retried while
`max_task_retries` lasts; an object whose only copy was on a dead node is rebuilt by re-running
the task that made it when that task may retry, else reading it raises `ObjectLostError`.
Every fault and its consequence goes to the trace.
"""

from __future__ import annotations

import os
import signal
import threading
import weakref
from typing import Any

from simray import exceptions as exc
from simray._model import actors as ends
from simray._model.returns import spend_retry
from simray._sim.actors import ALIVE, DEAD, ActorCall, SimActor
from simray._sim.kernel import WorkerExit
from simray._sim.objects import FAILED, PENDING, READY
from simray._sim.tasks import FINISHED, Task

RESTARTING = "restarting"
# Fake pids start above Linux's largest pid (2**22), so none is ever a real process's.
FIRST_PID = 4_200_001


class SigtermExit(SystemExit):
    """SIGTERM to an actor's own process: Ray 2.60's worker handler raises SystemExit(1)
    saying so (the method may catch it); the actor's process then exits gracefully."""

    said = "The process receives a SIGTERM."


class FakePids:
    """Stable, deterministic pids of simulated worker processes.

    As Ray leases a node's idle worker process to its next task, a task's worker is the pooled
    greenlet it runs on (the kernel reuses a finished one, most recently freed first; a blocked
    task keeps its own) on its node: two tasks running at once never share one, a task that
    starts after another ended may get its worker. A task that dies (a crash, a kill, its
    node's death) takes its greenlet with it, so a dead worker is never reused. Each actor
    incarnation is a process of its own (a restart is a new one). Pids are given in first-use
    order from FIRST_PID when asked for, so tasks that never ask cost nothing.
    """

    def __init__(self, running: dict[int, Any]) -> None:
        self._running = running  # the backend's running tasks, by id
        self._next = FIRST_PID
        self._worker: dict[tuple[Any, int], int] = {}  # (greenlet, node index) -> pid
        self._actor: dict[tuple[int, int], int] = {}  # (actor id, restarts) -> pid
        self._unit: dict[int, int] = {}  # id(any other unit) -> pid
        self._owner: dict[int, Any] = {}  # pid -> its actor, or its (greenlet, node index)
        self._dead: set[int] = set()  # task workers' pids whose process was killed while idle
        self._bound: dict[int, Any] = {}

    def bind(self, task: Any, actor: Any) -> None:
        """`task` (an actor's creation task) runs in `actor`'s process."""
        self._bound[id(task)] = actor

    def unbind(self, task: Any) -> None:
        self._bound.pop(id(task), None)

    def actor_of(self, unit: Any) -> Any:
        """The actor whose process `unit` runs in (its constructor, a call, its loop), or None."""
        return self._bound.get(id(unit)) or getattr(unit, "actor", None)

    def _new(self, owner: Any) -> int:
        pid = self._next
        self._next += 1
        self._owner[pid] = owner
        return pid

    def of_actor(self, actor: Any) -> int:
        """The pid of `actor`'s current process (a restart is a new one): what `os.getpid()`
        in it, its output prefix and Ray's error texts about its end all show."""
        key = (actor.actor_id, actor.restarts)
        pid = self._actor.get(key)
        if pid is None:
            pid = self._actor[key] = self._new(actor)
        return pid

    def of(self, unit: Any) -> int:
        actor = self.actor_of(unit)
        if actor is not None:
            return self.of_actor(actor)
        node = getattr(unit, "node", None)
        if type(unit) is not Task or node is None or unit.glet is None:
            pid = self._unit.get(id(unit))
            if pid is None:
                pid = self._unit[id(unit)] = self._new(None)
            return pid
        worker = (unit.glet, node.index)  # the greenlet is kept alive by the key: no id reuse
        pid = self._worker.get(worker)
        if pid is None or pid in self._dead:
            pid = self._worker[worker] = self._new(worker)
        return pid

    def owner(self, pid: Any) -> Any:
        """The live task or actor whose process has `pid`, else None."""
        owner = self._owner.get(pid) if type(pid) is int else None
        if owner is None:
            return None
        if type(owner) is tuple:  # a task worker: the task running in it now, if any
            if pid in self._dead or self._worker.get(owner) != pid:
                return None
            glet, index = owner
            for task in self._running.values():
                if task.glet is glet and task.node is not None and task.node.index == index:
                    return task
            return None
        if self._actor.get((owner.actor_id, owner.restarts)) == pid and owner.state != DEAD:
            return owner
        return None

    def known(self, pid: Any) -> bool:
        """Whether `pid` is a simulated worker's (alive or not)."""
        return type(pid) is int and pid in self._owner

    def died(self, pid: int) -> None:
        """The idle worker with `pid` was killed: the next task on its greenlet gets a new one."""
        self._dead.add(pid)

    def task_died(self, task: Any) -> None:
        """`task`'s worker process died with it (its greenlet may live on for other units)."""
        node = task.node
        if task.glet is not None and node is not None:
            pid = self._worker.get((task.glet, node.index))
            if pid is not None:
                self._dead.add(pid)


class Faults:
    """Applies failures to one sim session."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.kernel = backend.kernel
        self.on_start: dict[str, list[Any]] = {}
        self._saved_exit: Any = None
        self.pids = FakePids(backend.running)
        # Objects whose only copy lives on a worker node, so that node's death loses them.
        self.objects_on: dict[int, weakref.WeakSet[Any]] = {}

    # -- os._exit ------------------------------------------------------------------------------
    def install(self) -> None:
        self._saved_exit = os._exit
        real_exit = self._saved_exit
        kernel = self.kernel

        def _exit(status: int) -> None:
            if kernel.current is kernel.driver:
                real_exit(status)
            raise WorkerExit(status)

        os._exit = _exit
        self._saved_getpid, self._saved_kill = os.getpid, os.kill
        real_getpid, real_kill = os.getpid, os.kill
        sim_thread = threading.get_ident()
        pids = self.pids

        def getpid() -> int:
            unit = kernel.current
            if unit is None or unit is kernel.driver or threading.get_ident() != sim_thread:
                return real_getpid()
            return pids.of(unit)

        def kill(pid: int, sig: int) -> None:
            target = pids.owner(pid)
            if target is None:
                if not pids.known(pid):
                    return real_kill(pid, sig)
                if sig in (signal.SIGKILL, signal.SIGTERM):
                    pids.died(pid)  # an idle worker: it goes, nothing else happens
                return None
            if sig == 0:
                return None  # the worker exists
            if sig not in (signal.SIGKILL, signal.SIGTERM):
                return None  # Ray's workers ignore other signals here; simray does too
            if target is kernel.current or target is pids.actor_of(kernel.current):
                if sig == signal.SIGTERM and type(target) is not Task:
                    raise SigtermExit(1)  # Ray's actor worker exits as by sys.exit(1)
                raise WorkerExit(-sig)  # its own process: the caller goes with it
            kernel.call_soon(lambda _: self.killed(target, sig))
            return None

        os.getpid, os.kill = getpid, kill

    def killed(self, target: Any, sig: int) -> None:
        """`os.kill(pid, SIGKILL/SIGTERM)` of a simulated worker's pid: its process dies."""
        name = signal.Signals(sig).name
        if type(target) is Task:
            self.crash_task(target, f"the worker process was killed ({name})")
        elif target.state == ALIVE and sig == signal.SIGKILL:
            self.actor_process_died(target, ends.CONNECTION_LOST, told=ends.KILLED_IN_FLIGHT)
        elif target.state == ALIVE:
            self.actor_process_died(target, f"the worker process was killed ({name})")

    def uninstall(self) -> None:
        if self._saved_exit is not None:
            os._exit = self._saved_exit
            self._saved_exit = None
            os.getpid, os.kill = self._saved_getpid, self._saved_kill

    # -- triggers ------------------------------------------------------------------------------
    def at(self, when: float, action: Any) -> None:
        """Run `action()` at virtual time `when`."""
        self.kernel.call_at(when, lambda _: action())

    def task_started(self, task: Task) -> None:
        actions = self.on_start.get(task.name)
        if actions:
            self.kernel.call_soon(lambda _: [a(task) for a in list(actions)])

    # -- tasks -----------------------------------------------------------------------------------
    def crash_task(self, task: Task, reason: str) -> None:
        """The worker running `task` dies (a crash or `os._exit`)."""
        if task.state != "running":
            return
        self.backend.recorder.record("worker_crashed", task=task.task_id, reason=reason)
        self.pids.task_died(task)
        self.kernel.abandon(task)
        self._lost_attempt(task, exc.WorkerCrashedError())

    def _lost_attempt(self, task: Task, error: BaseException) -> None:
        backend = self.backend
        backend.release_resources(task)
        task.cpu_released = False
        if spend_retry(task):
            backend.retry_task(task)
        else:
            backend.finish_task(task, FAILED, error)
        backend.scheduler.dispatch()

    # -- nodes -----------------------------------------------------------------------------------
    def kill_node(self, node: Any) -> None:
        """The node dies now, with everything on it."""
        backend = self.backend
        if not node.alive:
            return
        backend.scheduler.remove_node(node)
        backend.recorder.record("node_died", node=node.index)
        died = exc.NodeDiedError(
            "Task failed because the node it was running on is dead or unavailable. Node IP: "
            f"{node.ip}, node ID: {node.node_id}. This can happen if the node was preempted, had a "
            "hardware failure, or its raylet crashed unexpectedly."
        )
        for task in [t for t in backend.running.values() if t.node is node]:
            self.pids.task_died(task)
            self.kernel.abandon(task)
            task.pool = None  # its resources died with the node
            task.gpu_shares = []
            task.node = None
            self._lost_attempt(task, died)
        for actor in [a for a in backend.actors.all if a.node is node and a.state == ALIVE]:
            actor.pool = None
            actor.holds, actor.gpu_shares = {}, []
            self.actor_process_died(actor, "the node it was running on died")
        for ref in list(self.objects_on.pop(node.index, ())):
            self._object_lost(ref)
        backend.scheduler.dispatch()

    def stored_on(self, ref: Any, node: Any) -> None:
        """Remember that `ref`'s value lives on `node` (worker nodes only: the head never dies
        without the driver)."""
        if not node.is_head:
            self.objects_on.setdefault(node.index, weakref.WeakSet()).add(ref)

    def _object_lost(self, ref: Any) -> None:
        task = ref.lineage
        if ref.state != READY:
            return
        if task is not None and task.retries_left != 0 and task.state == FINISHED:
            # Rebuilt from lineage: the task runs again and resolves its outputs anew.
            if task.retries_left > 0:
                task.retries_left -= 1
            self.backend.recorder.record("object_lost", object=ref.hex(), rebuild=task.task_id)
            for out in task.returns:
                out.state, out.stored = PENDING, None
                out.task = task
            task.attempt += 1
            task.ended = None  # it runs again
            self.backend.submit_when_ready(task)
            return
        self.backend.recorder.record("object_lost", object=ref.hex(), rebuild=None)
        ref.state = FAILED
        ref.stored = exc.ObjectLostError(ref.hex(), None, "")

    # -- actors ----------------------------------------------------------------------------------
    def actor_process_died(
        self, actor: SimActor, detail: str, graceful: bool = False, told: str | None = None
    ) -> None:
        """The actor's worker process died: restart it if it may, else it is dead (`detail`
        says why; calls in flight that do not retry are told `told`, default `detail`). A
        process that exits by itself (`sys.exit`) runs its `__del__` and atexit handlers; a
        killed or crashed one (`os._exit`, a signal, its node's death) runs neither."""
        backend = self.backend
        actors = backend.actors
        backend.recorder.record("actor_process_died", actor=actor.actor_id, detail=detail)
        actors.atexit_hook.process_ends(actor, graceful)
        can_restart = ends.may_restart(actor)
        current = self.kernel.current
        in_flight = list(actor.running)
        actor.running.clear()
        for call in in_flight:
            if call is not current and call.glet is not None:
                self.kernel.abandon(call)
        if actor.loop_unit is not None and actor.loop_unit is not current:
            self.kernel.abandon(actor.loop_unit)
        actor.loop_unit = None
        if actor.pool is not None and (actor.holds or actor.gpu_shares):
            actor.pool.release(actor.holds, actor.gpu_shares)
        actor.holds, actor.gpu_shares = {}, []
        if not can_restart:
            actors.die(actor, ends.process_died(actor, detail, pid=actors.pid(actor)))
            for call in in_flight:
                actors.fail(call, actor.death)
            return
        actor.restarts += 1
        actor.state = RESTARTING
        for call in reversed(in_flight):
            if ends.may_retry(actor, call):
                call.attempts += 1
                call.state = "waiting for arguments"
                actor.mailbox.appendleft(call)
            else:
                actors.fail(call, ends.unavailable(actor, told or detail))
        actors.restart(actor)
        backend.scheduler.dispatch()

    def crash_actor_call(
        self, call: ActorCall, graceful: bool = False, code: Any = None, said: str = ""
    ) -> None:
        """`call` ended its actor's process: `os._exit` or SIGKILL to itself (gone at once),
        or `sys.exit(code)` (graceful: code 0 is an intended exit, no restart, as in Ray);
        `said` is what Ray's exit adds to the detail (SIGTERM's handler says why)."""
        actor = call.actor
        if actor.state == DEAD:
            return
        actors = self.backend.actors
        if not graceful:
            self.actor_process_died(actor, ends.CONNECTION_LOST, told=ends.KILLED_IN_FLIGHT)
        elif code == 0:
            actors.die(
                actor,
                ends.sys_exited(actor, pid=actors.pid(actor)),
                release_name=False,
                graceful=True,
            )
        else:
            detail, told = ends.sys_exit_details(code, said)
            self.actor_process_died(actor, detail, graceful=True, told=told)
