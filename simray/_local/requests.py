"""What worker processes send the local driver: their lifecycle (hello, death), task results,
and the requests a task makes of the API (submit, get, wait, put, actors, placement groups),
each answered with a reply, at once or once it can be (`LATER`).

`WorkerRequests` is mixed into `LocalBackend`.
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from simray import exceptions as exc
from simray._local import serialization as ser
from simray._local.ids import put_id, task_bits
from simray._local.object_api import first_error
from simray._local.objects import FAILED, PENDING, LocalRef, Waiter
from simray._local.procs import WorkerProc
from simray._options import TaskOptions
from simray.util.placement_group import PlacementGroup

LATER = object()  # a request answered later, by a reply of its own


class WorkerRequests:
    """Mixed into LocalBackend: the messages and requests of worker processes."""

    # Provided by LocalBackend.
    lock: Any
    scheduler: Any
    procs: Any
    actors: Any
    pgs: Any
    ids: Any
    table: Any
    idle: list[WorkerProc]
    need_worker: Any
    streams: dict[int, Any]
    fn_blobs: dict[int, bytes]
    _up: Any

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
        lent, proc.lent = proc.lent, {}
        for entry in lent:  # whatever it held is let go
            entry.borrowers -= 1
            self.table.settle(entry)
        task = proc.task
        if task is not None and previous == "busy":
            self._detach(task)
            if task.cancelled:
                self._finish(task, FAILED, exc.TaskCancelledError(task.hex()))
            else:
                self._lost_attempt(task, exc.WorkerCrashedError())
            self.scheduler.dispatch()
        self.actors.holder_gone(proc)
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
        elif kind == "release":
            self.released(proc, msg[1])
        elif kind == "handles":
            self.actors.borrowed(proc, msg[1])
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
        if result is not LATER:
            self.reply(proc, req, True, result)

    def reply(self, proc: WorkerProc, req: int, ok: bool, value: Any) -> None:
        try:
            (wire, refs), actors = ser.with_actors(
                lambda: ser.with_refs(lambda: ser.pack(value, self.token))
            )
        except Exception as e:  # noqa: BLE001 - an unpicklable error: send its text
            ok, wire = (
                False,
                ser.pack(RuntimeError(f"{type(value).__name__}: {value} ({e})"), self.token),
            )
            refs, actors = [], []
        self.lend(proc, refs)
        self.actors.lend(proc, actors)  # a created actor's or `get_actor`'s handle
        proc.send(("reply", req, ok, wire))

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
            r.entry.owner = proc.node
        self.lend(proc, [r.entry for r in refs])
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
                    self.lend_value(proc, e)
                    if e.state != PENDING
                    else ("e", cloudpickle.dumps(first_error(entries)))
                    for e in entries
                ],
            )

        if not pending or failed:
            unblock = _noop
            answer()
            return LATER
        unblock = self._block(proc)
        waiter = Waiter(len(pending), True, answer)
        waiter.then_unblock = unblock  # type: ignore[attr-defined]
        proc.waits[req] = waiter
        waiter.watch(pending)
        return LATER

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
        return LATER

    def _block(self, proc: WorkerProc) -> Any:
        """A normal task blocked in get/wait gives its CPU back until it resumes (Ray's rule)."""
        task = proc.task
        cpu = task.demand.get("CPU") if task is not None and proc.state == "busy" else None
        if not cpu or task.cpu_released or task.pool is None:
            return _noop
        task.cpu_released = True
        task.pool.shift_cpu(cpu)
        self.scheduler.dispatch()

        def unblock() -> None:
            if task.cpu_released and task.pool is not None:
                task.cpu_released = False
                task.pool.shift_cpu(-cpu)

        return unblock

    def _rpc_put(self, proc, req, wire, oid):  # type: ignore[no-untyped-def]
        """A put in a worker, numbered there (its task's id and count, see `_local.ids`); a
        put outside any task's context (a thread of the user's) is named after a new task."""
        table = self.table
        if oid is None:
            oid = put_id(task_bits(self.ids.new_task()), 0, 1)
        elif oid in table.entries:
            raise ValueError(
                f"put: object id {oid:056x} is already in use in this session (a task retried "
                "more than 255 times reuses its first attempt's put ids); lower max_retries"
            )
        entry = table.new(oid)
        entry.owner = proc.node
        table.hold(entry, *table.take(wire))
        self.lend(proc, [entry])
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
            r.entry.owner = proc.node
        self.lend(proc, [r.entry for r in refs])
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

    def _rpc_credit(self, proc, req, key):  # type: ignore[no-untyped-def]
        stream = self.streams.get(key)
        if stream is None or not stream.wants_credit():
            return None
        stream.credit.append((proc, req))
        return LATER


def _noop() -> None:
    pass
