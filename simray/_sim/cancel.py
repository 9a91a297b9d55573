"""`ray.cancel` on the sim backend: a queued task never runs, a running one is interrupted
(or abandoned with force), children too when recursive; actor calls only without force.
"""

from __future__ import annotations

from typing import Any

from simray import exceptions as exc
from simray._sim.actors import ActorCall
from simray._sim.objects import FAILED, SimRef
from simray._sim.tasks import FINISHED, QUEUED, WAITING_DEPS, Task


class Cancel:
    """Mixed into SimBackend: cancelling tasks and actor calls."""

    # Provided by SimBackend.
    kernel: Any
    scheduler: Any
    actors: Any
    recorder: Any
    finish_task: Any

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
        self.cancel_task(task, force, recursive)

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
            self.actors.fail(call, exc.TaskCancelledError(call.hex()))
        elif call.state == "running":
            self.actors.cancel_running(call)

    def cancel_task(self, task: Task, force: bool, recursive: bool) -> None:
        if task.state == FINISHED:
            return
        task.cancelled = True
        self.recorder.record("cancel", task=task.task_id, force=force)
        if recursive and task.children:
            for child in list(task.children):
                self.cancel_task(child, force, recursive)
        if task.state in (WAITING_DEPS, QUEUED):
            if task.state == QUEUED:
                self.scheduler.withdraw(task)
            self.finish_task(task, FAILED, exc.TaskCancelledError())
        elif force:
            self.kernel.abandon(task)
            self.finish_task(task, FAILED, exc.TaskCancelledError(task.hex()))
        elif task.blocked_on is not None and task.blocked_on[0] in ("objects", "lock", "asyncio"):
            # Ray's get/wait poll for signals; a sleep is only interrupted when it returns.
            self.kernel.wake(task, KeyboardInterrupt(), throw=True)
        else:
            task.interrupt = True
