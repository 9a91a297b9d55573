"""How a sim task ends: its body runs, and its outputs, row, resources and worker are settled.

Mixed into `SimBackend`. `_run_task` runs a task's body on its worker and does the commonest
end itself (one immutable scalar from a plain task on the head node), which also hands the
worker and resources to the next queued task of the class and runs it on the same worker;
every other end goes through `_task_returned`/`_task_raised`, `finish_task` and `_end`.
"""

from __future__ import annotations

import sys
from typing import Any

from greenlet import GreenletExit

from simray import exceptions as exc
from simray._model.resources import NO_GPU_SHARES
from simray._model.returns import retries_exception, retry_notice, split_returns
from simray._sim.errors import task_error
from simray._sim.kernel import Kernel, WorkerExit
from simray._sim.livelock import LivelockInterrupt
from simray._sim.object_api import Waiter
from simray._sim.objects import ATOMIC, FAILED, READY, SimRef, pack, unpack
from simray._sim.tasks import FINISHED, QUEUED, RUNNING, EndedTask, Task


class TaskEnds:
    """Mixed into SimBackend: running a task's body and ending the task."""

    # Provided by SimBackend.
    kernel: Kernel
    scheduler: Any
    faults: Any
    locks: Any
    recorder: Any
    trace: Any
    running: dict[int, Task]
    generating: dict[int, str]
    task_table: dict[int, Any]
    task_table_cap: int
    finished_order: Any
    _driver_cuda: Any
    jitter: float

    def _run_task(self, task: Task) -> None:
        """Run a task's body and end it. The commonest end is done here (the fast end, below),
        and when it passes the worker to the next task of the class, that one runs here too:
        no return to the kernel's worker loop between them."""
        kernel = self.kernel
        running = self.running
        queues = self.scheduler.queues
        # None of these is replaced while the session lasts (the lock table only grows).
        untraced = self.trace is None
        lock_table = self.locks.table
        start_hooks = self.faults.on_start
        while True:
            try:
                if task.env is not kernel.env_now or task.interrupt:
                    self.switch_in(task)
                args = task.args
                if type(args) is tuple:  # plain: immutable scalars, passed as they are
                    result = task.fn(*args)
                else:
                    args = [unpack(a.stored) if type(a) is SimRef else unpack(a) for a in task.args]
                    kwargs = {
                        k: unpack(v.stored) if type(v) is SimRef else unpack(v)
                        for k, v in task.kwargs.items()
                    }
                    result = task.fn(*args, **kwargs)
                if task.opts.generator is not None and task.task_id in self.generating:
                    result = self.drive_generator(task, result)
            except (GreenletExit, LivelockInterrupt):
                raise
            except WorkerExit:
                self.faults.crash_task(task, "the worker process exited (os._exit)")
                return
            except SystemExit:
                # sys.exit()/exit() in a task ends its worker process in Ray, whatever the code:
                # a system failure (retried while max_retries lasts), never the driver's exit.
                self.faults.crash_task(task, "the worker process exited (sys.exit)")
                return
            except BaseException as e:  # the task's own failure, whatever it is, is its result
                self._task_raised(task, e)
                return
            node = task.node
            if not (
                type(result) in ATOMIC  # one immutable scalar, stored as it is
                and task.opts.simple  # one return, the default strategy, no generator
                and task.parent is None
                and node is not None
                and node.is_head
                and untraced
                and not lock_table  # (no stream to end: a simple task has none)
            ):
                self._task_returned(task, result)
                return
            # The fast end: `_task_returned`, `_end` and `_hand_over_or_release` in one, for a
            # task of `simple` options that returned one immutable scalar on the head node,
            # submitted by the driver, in a session without a trace or held file locks. The
            # task is its own state-API row, with its node kept and its returns dropped so the
            # row holds no value (the general path makes an `EndedTask`).
            ref = task.ret  # its one return (`simple` options), made with it, numbered as the task
            # `ref.resolve(READY, result)`, written out.
            ref.state = READY
            ref.stored = result
            ref.task = None
            callbacks = ref.callbacks
            if callbacks is not None:
                ref.callbacks = None
                if type(callbacks) is Waiter:  # one get or wait blocked on it: count it off
                    left = callbacks.left
                    if left:
                        left.pop()
                        if not left:
                            callbacks.done()
                elif type(callbacks) is list:
                    for cb in callbacks:
                        cb(ref)
                else:
                    callbacks(ref)
            now = kernel.now
            task_id = task.task_id
            task.state = FINISHED
            task.ended = now
            if task_id in self.task_table:  # its row is itself (unless the table evicted it)
                self.finished_order.append(task_id)
            task.ret = ()
            task.args = None  # type: ignore[assignment]
            del running[task_id]
            node = task.node  # read again: the callbacks ran code
            key = task.opts.sched_key  # the default strategy: `simple` options
            queue = queues.get(key)
            if not queue or task.gpu_shares or task.cpu_released:
                self.release_resources(task)
                task.node = node  # the row shows where it ran
                self.scheduler.dispatch()
                return
            nxt = queue.popleft()  # its worker and resources go to the next of its class
            if not queue:
                del queues[key]
            nxt.pool = task.pool
            if nxt.env is not None or start_hooks or self.jitter:
                self._start_task(nxt, node, here=True)
                return
            # `_start_task` written out for the next one: same node, no GPUs (its class has
            # none), no env_vars (its env is None until it starts, unless they ride there),
            # fault hook, jitter or trace; and this worker runs it next (the kernel's worker
            # loop, written out).
            nxt.node = node
            nxt.state = RUNNING
            nxt.ran = now
            nxt.env = self._driver_cuda
            running[nxt.task_id] = nxt
            nxt.glet = task.glet
            task.glet = None
            kernel.current = task = nxt

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
            self.release_resources(task)
            self.retry_task(task)
            self.scheduler.dispatch()
            return
        pid = self.faults.pids.of(task)  # the worker's, as Ray's error text shows it
        self.finish_task(task, FAILED, task_error(task.name, error, task.node.ip, pid))

    def retry_task(self, task: Task) -> None:
        del self.running[task.task_id]
        task.attempt += 1
        task.state = QUEUED
        self.locks.release_all(task)
        self.recorder.record("retry", task=task.task_id, attempt=task.attempt)
        self.scheduler.submit(task)

    def release_resources(self, task: Task) -> None:
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
        self.release_resources(task)
        self.scheduler.dispatch()

    def finish_task(self, task: Task, state: int, stored: Any) -> None:
        """Resolve a task's outputs with an error or value, whatever state it was in."""
        for ref in task.returns:
            ref.resolve(state, stored)
        self._end(task)

    def _end(self, task: Task) -> None:
        task.ended = self.kernel.now
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
                task.args = None  # type: ignore[assignment]
                if task.kwargs:
                    task.kwargs = None
            self._hand_over_or_release(task)
        else:
            task.state = FINISHED
            self.recorder.record("finish", task=task.task_id, ok=False)
        parent = task.parent
        if parent is not None and parent.children is not None:
            del parent.children[task]
            task.parent = None
