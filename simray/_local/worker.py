"""A worker process of the local backend: runs tasks or one actor for the driver.

The main thread runs tasks (and a sync actor's calls) one at a time; a reader thread takes the
driver's messages (work, replies to this worker's requests, cancels). User code calling the
simray API here reaches `WorkerSession`, which forwards every call to the driver: nested tasks,
`get`, `wait` and `put` go through the driver's object table and scheduler, as in Ray.
"""

from __future__ import annotations

import contextvars
import os
import queue
import signal
import sys
import threading
import traceback
import weakref
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from multiprocessing.connection import Client
from typing import TYPE_CHECKING, Any

import cloudpickle

from simray import _session
from simray import exceptions as exc
from simray._actor import ActorHandle
from simray._context_fields import function_name
from simray._local import serialization as ser
from simray._local import shm
from simray._local.ids import actor_hex, put_id
from simray._local.output import Output, capture_fds, drain_fds
from simray._model.returns import raise_if_dependency_failed, split_returns
from simray._object_ref import ObjectRef, not_a_ref, refs_to_get
from simray._output import actor_label
from simray.util.placement_group import PlacementGroup

if TYPE_CHECKING:
    import asyncio

_CUDA = "CUDA_VISIBLE_DEVICES"
_DRIVEN = object()  # an async generator's values were already sent
_ctx: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "simray_local_ctx", default=None
)


class _ActorExit(SystemExit):
    """`exit_actor()` in a sync or threaded actor: unwinds the method."""


class _SigtermExit(SystemExit):
    """SIGTERM to an actor's process: Ray 2.60's worker handler raises SystemExit(1) saying so
    (the method may catch it); uncaught, the process exits as by `sys.exit(1)`, gracefully."""

    said = "The process receives a SIGTERM."


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _SigtermExit(1)


# How this process's refs are counted for the driver (see `WorkerRef`).
_counts: dict[int, int] = {}  # id -> live refs to it here
_loaded: dict[int, int] = {}  # id -> refs to it the driver sent (lent) since its last release
_released: list[tuple[int, int]] = []  # (id, refs lent) of ids no ref here names any more
_count_lock = threading.RLock()
# How this process's actor handles are counted for the driver (Ray's borrowers), as its refs
# are: live handles per actor id, handles loaded since the last report, and the reports not yet
# sent: ("drop", id, handles loaded) once none is left here, ("escape", id, 0) once one was
# written into a value.
_handles: dict[int, int] = {}
_handles_loaded: dict[int, int] = {}
_handle_events: list[tuple[str, int, int]] = []


def _counted_handle(actor_id: int, cls: Any) -> ActorHandle:
    """A handle the driver sent (lent: it counts this process as holding the actor until it
    hears the handles it lent are gone)."""
    handle = ActorHandle(_RemoteActor(actor_id), cls)
    with _count_lock:
        _handles[actor_id] = _handles.get(actor_id, 0) + 1
        _handles_loaded[actor_id] = _handles_loaded.get(actor_id, 0) + 1
    weakref.finalize(handle, _handle_gone, actor_id)
    return handle


def _handle_gone(actor_id: int) -> None:
    with _count_lock:
        n = _handles.get(actor_id, 0) - 1
        if n > 0:
            _handles[actor_id] = n
            return
        _handles.pop(actor_id, None)
        _handle_events.append(("drop", actor_id, _handles_loaded.pop(actor_id, 0)))


class WorkerRef(ObjectRef):
    """An ObjectRef inside a worker: only the id; the value lives in the driver's table.

    The driver lends each ref it sends (a count per id); when the last ref to an id dies here,
    the release (with how many were lent) is queued and reaches the driver in a batch, ahead of
    this worker's next message or once its current work is over."""

    __slots__ = ()

    def __init__(self, object_id: int, lent: bool = True):
        super().__init__(object_id)
        with _count_lock:
            _counts[object_id] = _counts.get(object_id, 0) + 1
            if lent:
                _loaded[object_id] = _loaded.get(object_id, 0) + 1

    def __del__(self) -> None:
        oid = self._id
        with _count_lock:
            left = _counts.get(oid, 0) - 1
            if left > 0:
                _counts[oid] = left
                return
            _counts.pop(oid, None)
            lent = _loaded.pop(oid, 0)
            if lent:
                _released.append((oid, lent))

    def __reduce__(self) -> Any:
        raise TypeError("an ObjectRef of the local backend is passed to tasks, not pickled")


WorkerRef.__name__ = WorkerRef.__qualname__ = "ObjectRef"


class _RemoteActor:
    """The record an ActorHandle holds in a worker: the actor's id."""

    def __init__(self, actor_id: int):
        self.actor_id = actor_id

    def hex(self) -> str:
        return actor_hex(self.actor_id)


class _RemotePG:
    def __init__(self, pg_id: int, strategy: str, ready_id: int):
        self.pg_id = pg_id
        self.strategy = strategy
        self.ready_ref = WorkerRef(ready_id, lent=False)  # kept by the driver until shutdown

    def hex(self) -> str:
        return f"{self.pg_id:036x}"


def token(obj: Any) -> Any:
    """How a ref, actor handle or placement group is written into a pickle (both sides)."""
    if isinstance(obj, ObjectRef):
        ser.noted(obj._id)  # a value made here tells the driver which objects it names
        return ("r", obj._id)
    if isinstance(obj, ActorHandle):
        if not ser.noted_actor(obj._actor):  # a value: copies may live anywhere from now on
            with _count_lock:
                _handle_events.append(("escape", obj._actor.actor_id, 0))
        return ("a", obj._actor.actor_id, obj._cls)
    return (
        "p",
        obj._record.pg_id,
        obj.bundle_specs,
        obj._record.strategy,
        obj._record.ready_ref._id,
    )


def load(pid: Any) -> Any:
    kind = pid[0]
    if kind == "r":
        return WorkerRef(pid[1])
    if kind == "a":
        return _counted_handle(pid[1], pid[2])
    return PlacementGroup(_RemotePG(pid[1], pid[3], pid[4]), pid[2])


class Worker:
    """This process's connection to the driver and what it is running."""

    def __init__(self, conn: Any, config: dict[str, Any]):
        self.conn = conn
        self.pid = os.getpid()
        self.config = config
        self.send_lock = threading.Lock()
        self.replies: dict[int, Future[Any]] = {}
        self.next_req = 0
        self.req_lock = threading.Lock()
        self.work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.fns: dict[int, Any] = {}
        self.current: int | None = None  # the task the main thread runs
        self.interrupt_for: int | None = None
        self.label = ""  # the name in its output's prefix: none until a task or actor runs
        self.actor: Any = None
        self.actor_mode = ""
        # concurrency group (None: the default group) -> its threads or its semaphore
        self.pools: dict[str | None, ThreadPoolExecutor] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sems: dict[str | None, asyncio.Semaphore] = {}
        self.cancelled: set[int] = set()
        self.atasks: dict[int, asyncio.Task[Any]] = {}
        self.shm_count = 0
        # An async actor's puts, its constructor's too: one TaskID and count for the process
        # (Ray's event loop), [TaskID, attempt, puts so far]; None: each execution its own.
        self.loop_puts: list[int] | None = None
        self.fn_keys: dict[int, tuple[int, Any]] = {}

    # -- talking to the driver ---------------------------------------------------------------
    def send(self, msg: Any) -> None:
        with self.send_lock:
            if _released or _handle_events:
                self._send_releases()
            self.conn.send(msg)

    def finish(self, msg: Any) -> None:
        """Send a piece of work's result after the output it printed (its own lines, fds 1 and 2):
        the driver prints that output before the caller sees the result, and a shutdown right
        after the result loses none of it."""
        _flush()
        self.send(msg)

    def _send_releases(self) -> None:
        with _count_lock:
            pairs = _released[:]
            del _released[:]
            events = _handle_events[:]
            del _handle_events[:]
        if events:
            self.conn.send(("handles", events))
        if pairs:
            self.conn.send(("release", pairs))

    def flush_releases(self) -> None:
        """Report the refs this process let go of (after a piece of work ends)."""
        if _released or _handle_events:
            with self.send_lock:
                self._send_releases()

    def request(self, op: str, *args: Any) -> Future[Any]:
        with self.req_lock:
            self.next_req += 1
            req = self.next_req
            future: Future[Any] = Future()
            self.replies[req] = future
        future.req = req  # type: ignore[attr-defined]
        # A handle in a request reaches the driver, which counts it there (see `token`).
        payload, _ = ser.with_actors(lambda: ser.pack(args, token))
        self.send(("rpc", req, op, payload))
        return future

    def call(self, op: str, *args: Any, timeout: float | None = None) -> Any:
        future = self.request(op, *args)
        try:
            return future.result(timeout)
        except TimeoutError:
            with self.req_lock:
                self.replies.pop(future.req, None)  # type: ignore[attr-defined]
            self.send(("unwait", future.req))  # type: ignore[attr-defined]
            raise

    def reader(self) -> None:
        try:
            while True:
                msg = self.conn.recv()
                kind = msg[0]
                if kind == "reply":
                    with self.req_lock:
                        future = self.replies.pop(msg[1], None)
                    if future is not None and not future.done():
                        ok, payload = msg[2], msg[3]
                        try:
                            value = ser.unpack(payload, load)
                        except BaseException as e:  # noqa: BLE001 - handed to the caller
                            value, ok = e, False
                        try:
                            if ok:
                                future.set_result(value)
                            else:
                                future.set_exception(value)
                        except InvalidStateError:
                            pass  # the caller gave up (cancelled) meanwhile
                elif kind == "call":
                    self.dispatch_call(msg)
                elif kind == "cancel":
                    self.cancel(msg[1])
                elif kind == "unmap":  # freed segments: drop the cached mappings
                    for name in msg[1]:
                        shm.forget(name)
                elif kind == "exit":
                    if self.actor_mode == "async" and self.loop is not None:
                        self.loop.call_soon_threadsafe(self.loop.stop)
                    else:
                        self.work.put(("quit",))
                else:
                    self.work.put(msg)
        except (EOFError, OSError):
            pass
        os._exit(0)  # the driver is gone (or asked us to go): nothing here may outlive it

    # -- tasks -------------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            msg = self.work.get()
            kind = msg[0]
            if kind == "run":
                self.run_task(msg)
            elif kind == "actor":
                self.become_actor(msg)
                if self.actor_mode == "async":
                    self.run_loop()
                    self.quit()
            elif kind == "acall":
                self.run_call(msg)
            elif kind == "quit":
                self.quit()
            del msg
            self.flush_releases()  # the work's refs are gone with its frame

    def quit(self) -> None:
        """End the process as an actor that exited, as Ray's worker does: the instance goes
        first (its `__del__` runs), then the atexit handlers; output is flushed."""
        import atexit

        self.actor = None
        atexit._run_exitfuncs()
        _flush()
        os._exit(0)

    def sys_exit(self, code: Any, said: str = "") -> None:
        """`sys.exit(code)` in an actor method: the driver hears the code (0 is an intended
        exit) and what the exit adds to its detail (SIGTERM's handler says why), then the
        process ends as Python's does: `__del__`, then atexit handlers."""
        code = code if isinstance(code, int | str | None) else str(code)
        self.send(("sys_exit", code, said))
        self.quit()

    def function(self, key: int, blob: bytes | None) -> Any:
        fn = self.fns.get(key)
        if fn is None:
            fn = self.fns[key] = ser.loads_code(blob, load)
        return fn

    def run_task(self, msg: Any) -> None:
        _, task_id, fn_key, fn_blob, args, kwargs, num_returns, ctx = msg
        self.label = ctx["label"]
        ctx["call_id"] = task_id
        ctx["puts"] = [int(ctx["task_id"], 16), ctx.pop("attempt"), _returns(num_returns)]
        _set_cuda(ctx["cuda"])
        saved = _set_env_vars(ctx.get("env_vars"))
        _ctx.set(ctx)
        self.current = task_id
        try:
            fn = self.function(fn_key, fn_blob)
            ctx["function_name"] = function_name(None, fn)
            if self.interrupt_for == task_id:
                raise KeyboardInterrupt
            a = [self.arg(x) for x in args]
            k = {key: self.arg(v) for key, v in kwargs.items()}
            result = fn(*a, **k)
            outputs = self.outputs(result, num_returns, task_id)
        except SystemExit:
            # sys.exit()/exit() in a task ends its worker process in Ray, whatever the code.
            _flush()
            os._exit(1)
        except BaseException as e:  # noqa: BLE001 - the task's failure is its result
            self.current = None
            self.interrupt_for = None
            cancelled = task_id in self.cancelled
            self.finish(("error", task_id, self.error_blob(ctx["name"], e, ctx, cancelled)))
        else:
            self.current = None
            self.interrupt_for = None
            self.finish(("done", task_id, outputs))
        finally:
            _restore_env(saved)

    def arg(self, wire: Any) -> Any:
        if wire[0] == "e":  # a failed argument: raise its error here, as Ray does
            raise_if_dependency_failed(cloudpickle.loads(wire[1]))
        return ser.unpack(wire, load)

    def drive(self, gen: Any, mode: tuple[str, int | None], key: int) -> None:
        """Run a generator task or call: each yielded value goes to the driver as it is made;
        with a backpressure limit, wait after each for the driver's credit."""
        if not hasattr(gen, "__next__"):
            raise TypeError(
                f"the function was declared with num_returns={mode[0]!r} but returned "
                f"{type(gen).__name__}, not a generator; use `yield` in the function"
            )
        for value in gen:
            self.send(("yield", key, self.pack_out(value, "a yielded value")))
            if mode[1] is not None:
                self.call("credit", key)

    def pack_out(self, value: Any, what: str) -> Any:
        try:
            return self.pack_value(value)
        except Exception as e:
            raise TypeError(f"Could not serialize {what}: {e}") from e

    def pack_value(self, value: Any) -> Any:
        """A value made here for the driver; `("n", wire, ids)` if it names objects, so that
        the driver keeps them while the value lives."""
        wire, ids = ser.with_refs(lambda: ser.pack_large(value, token, self.to_shm))
        return ("n", wire, ids) if ids else wire

    def outputs(self, result: Any, n: Any, key: int = 0) -> list[Any]:
        if isinstance(n, tuple):  # a generator: (mode, backpressure)
            if result is not _DRIVEN:
                self.drive(result, n, key)
            values = [None]
        else:
            values = split_returns(result, n)
            if type(values) is ValueError:
                raise values
        return [self.pack_out(v, "the return value") for v in values]

    def next_put_id(self) -> int | None:
        """The number of a put made now (see `_local.ids`): the running execution's TaskID
        and attempt, its count above its returns (an async actor's: `loop_puts`); None outside
        any task (a user's thread)."""
        puts = self.loop_puts
        if puts is None:
            ctx = _ctx.get()
            puts = ctx.get("puts") if ctx is not None else None
            if puts is None:
                return None
        puts[2] += 1
        return put_id(puts[0], puts[1], puts[2])

    def to_shm(self, wire: Any) -> Any:
        """Write a large value's wire form into a new segment of this worker's."""
        self.shm_count += 1
        return shm.write(wire, f"{self.config['shm_prefix']}w{self.pid}_{self.shm_count}")

    def error_blob(
        self, name: str, error: BaseException, ctx: dict[str, Any], cancelled: bool = False
    ) -> Any:
        asyncio = sys.modules.get("asyncio")  # imported by async actors only (start-up time)
        cancelled_errors = (KeyboardInterrupt,) + ((asyncio.CancelledError,) if asyncio else ())
        if cancelled and isinstance(error, cancelled_errors):
            error = exc.TaskCancelledError(ctx["task_id"])
        actor = ctx.get("actor_id")
        err = exc._make_task_error(
            name,
            error,
            pid=self.pid,
            ip=ctx["ip"],
            actor_repr=f"<{ctx['class_name']} object>" if actor else None,
            actor_id=actor,
        )
        try:
            blob = cloudpickle.dumps(err)
            cloudpickle.loads(blob)
        except Exception:
            return ("unserializable", "".join(traceback.format_exception(error)))
        return ("error", blob)

    def cancel(self, task_id: int) -> None:
        if self.actor is not None:
            self.cancelled.add(task_id)
            atask = self.atasks.get(task_id)
            if atask is not None and self.loop is not None:
                # Two hops: a reply that arrived before the cancel resumes the coroutine first.
                loop = self.loop
                loop.call_soon_threadsafe(
                    lambda: loop.call_soon(lambda: loop.call_soon(atask.cancel))
                )
            return
        self.interrupt_for = task_id
        self.cancelled.add(task_id)
        if self.current == task_id:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def on_sigint(self, signum: int, frame: Any) -> None:
        if self.current is not None and self.interrupt_for == self.current:
            self.interrupt_for = None
            raise KeyboardInterrupt

    # -- actors ------------------------------------------------------------------------------
    def become_actor(self, msg: Any) -> None:
        _, actor_id, cls_blob, args, kwargs, mode, limits, ctx = msg
        signal.signal(signal.SIGTERM, _on_sigterm)  # Ray's actor worker exits gracefully
        self.label = ctx["class_name"]
        ctx["puts"] = [ctx.pop("creation_task"), ctx.pop("attempt"), 0]  # the constructor's
        if mode == "async":
            self.loop_puts = ctx["puts"]
        _set_cuda(ctx["cuda"])
        _set_env_vars(ctx.get("env_vars"))  # the process is the actor's for its whole life
        _ctx.set(ctx)
        self.actor_ctx = ctx
        try:
            cls = ser.loads_code(cls_blob, load)
            actor_id_int = actor_id
            ctx["actor_handle"] = lambda: ActorHandle(_RemoteActor(actor_id_int), cls)
            self.actor_cls = cls
            ctx["function_name"] = function_name(cls, "__init__")
            ctx["task_name"] = f"{ctx['class_name']}.__init__"
            a = [self.arg(x) for x in args]
            k = {key: self.arg(v) for key, v in kwargs.items()}
            if mode == "async":
                import asyncio

                self.loop = asyncio.new_event_loop()
                asyncio.set_event_loop(self.loop)
                self.sems = {group: asyncio.Semaphore(n) for group, n in limits.items()}
            self.actor = cls(*a, **k)
            self.label = actor_label(self.actor, cls, True)  # a repr of its own, once built
        except BaseException as e:  # noqa: BLE001 - the constructor's failure is reported
            self.finish(
                ("created", actor_id, self.error_blob(f"{ctx['class_name']}.__init__", e, ctx))
            )
            return
        self.actor_mode = mode
        ctx["assigned"] = ctx.pop("held")
        if mode == "threaded":
            self.pools = {group: ThreadPoolExecutor(max_workers=n) for group, n in limits.items()}
        self.finish(("created", actor_id, None))

    def dispatch_call(self, msg: Any) -> None:
        mode = self.actor_mode
        if mode == "async":
            assert self.loop is not None
            self.loop.call_soon_threadsafe(self._start_async, msg)
        elif mode == "threaded":
            self.pools[msg[6]].submit(self._pooled_call, msg)
        else:
            self.work.put(("acall", *msg[1:]))

    def _pooled_call(self, msg: Any) -> None:
        self.run_call(msg)
        del msg
        self.flush_releases()

    def _call_ctx(self, call_id: int, method: str, attempt: int, returns: Any) -> dict[str, Any]:
        ctx = dict(self.actor_ctx)
        ctx["task_id"] = f"{call_id:016x}" + ctx["actor_id"]  # Ray's: unique bytes + ActorID
        ctx["call_id"] = call_id
        ctx["puts"] = [int(ctx["task_id"], 16), attempt, _returns(returns)]  # its own count
        ctx["task_name"] = f"{ctx['class_name']}.{method}"
        ctx["function_name"] = function_name(self.actor_cls, method)
        return ctx

    def run_call(self, msg: Any) -> None:
        _, call_id, method, args, kwargs, num_returns, _, attempt = msg
        ctx = self._call_ctx(call_id, method, attempt, num_returns)
        _ctx.set(ctx)
        name = f"{ctx['class_name']}.{method}"
        if call_id in self.cancelled:
            self.send(("cerror", call_id, ("cancelled", None)))
            return
        if method == "__ray_terminate__":
            self.terminate(call_id)
            return
        exited: tuple[Any, str] | None = None  # (code, said) of a sys.exit
        try:
            a = [self.arg(x) for x in args]
            k = {key: self.arg(v) for key, v in kwargs.items()}
            result = self.method(method)(*a, **k)
            outputs = self.outputs(result, num_returns, call_id)
        except _ActorExit:
            self.finish(("exit_call", call_id))
        except SystemExit as stop:  # sys.exit()/exit() or SIGTERM in a method: Python exits
            exited = (stop.code, getattr(stop, "said", ""))
        except BaseException as e:  # noqa: BLE001 - the method's failure is its result
            self.finish(("cerror", call_id, self.error_blob(name, e, ctx)))
        else:
            self.finish(("cdone", call_id, outputs))
        if exited is not None:  # once the traceback (holding the method's `self`) is gone
            self.sys_exit(*exited)

    def method(self, name: str) -> Any:
        """The actor's method `name` (`__ray_ready__`, Ray's built-in, answers True)."""
        if name == "__ray_ready__":
            return _ready
        return getattr(self.actor, name)

    def _start_async(self, msg: Any) -> None:
        assert self.loop is not None
        call_id = msg[1]
        atask = self.atasks[call_id] = self.loop.create_task(self._run_async(msg))
        atask.add_done_callback(lambda _: self.flush_releases())

    async def _run_async(self, msg: Any) -> None:
        import asyncio

        _, call_id, method, args, kwargs, num_returns, group, attempt = msg
        ctx = self._call_ctx(call_id, method, attempt, num_returns)
        ctx["async_actor"] = True
        _ctx.set(ctx)
        name = f"{ctx['class_name']}.{method}"
        exited: tuple[Any, str] | None = None  # (code, said) of a sys.exit
        try:
            if method == "__ray_terminate__":
                self.terminate(call_id)
                return
            async with self.sems[group]:
                if call_id in self.cancelled:
                    raise asyncio.CancelledError
                a = [self.arg(x) for x in args]
                k = {key: self.arg(v) for key, v in kwargs.items()}
                result = self.method(method)(*a, **k)
                if asyncio.iscoroutine(result):
                    result = await result
                if isinstance(num_returns, tuple) and hasattr(result, "__anext__"):
                    async for value in result:  # an async generator method: no backpressure
                        self.send(("yield", call_id, self.pack_out(value, "a yielded value")))
                    result = _DRIVEN
                outputs = self.outputs(result, num_returns, call_id)
        except exc.AsyncioActorExit:
            self.finish(("exit_call", call_id))
        except SystemExit as stop:  # sys.exit()/exit() or SIGTERM in a method: Python exits
            exited = (stop.code, getattr(stop, "said", ""))
        except asyncio.CancelledError as e:
            if call_id in self.cancelled:
                self.finish(("cerror", call_id, self.error_blob(name, e, ctx, True)))
            else:
                self.finish(("cerror", call_id, self.error_blob(name, e, ctx)))
        except BaseException as e:  # noqa: BLE001 - the method's failure is its result
            self.finish(("cerror", call_id, self.error_blob(name, e, ctx)))
        else:
            if call_id in self.cancelled:  # Ray: a cancelled call fails even if it returned
                error = asyncio.CancelledError()
                self.finish(("cerror", call_id, self.error_blob(name, error, ctx, True)))
            else:
                self.finish(("cdone", call_id, outputs))
        finally:
            self.atasks.pop(call_id, None)
        if exited is not None:  # once the traceback (holding the method's `self`) is gone
            self.sys_exit(*exited)

    def run_loop(self) -> None:
        assert self.loop is not None
        self.loop.run_forever()

    def terminate(self, call_id: int) -> None:
        """`__ray_terminate__`: answer the call, then leave (an intended exit)."""
        self.finish(("cdone", call_id, [("v", None)]))
        self.send(("exiting", "terminate"))
        self.quit()


class WorkerSession:
    """The simray API inside a worker: each call is a request to the driver."""

    name = "local"

    def __init__(self, worker: Worker, namespace: str):
        self.w = worker
        self.namespace = namespace

    def _fn_key(self, fn: Any) -> tuple[int, bytes | None]:
        entry = self.w.fn_keys.get(id(fn))
        if entry is not None and entry[1] is fn:
            return entry[0], None
        key = (self.w.pid << 24) + len(self.w.fn_keys) + 1
        self.w.fn_keys[id(fn)] = (key, fn)
        self.w.fns[key] = fn
        return key, ser.dumps_code(fn, token)

    def submit_task(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any) -> Any:
        if opts.generator is not None:
            _no_nested_generators()
        key, blob = self._fn_key(fn)
        ids = self.w.call("submit", key, blob, opts.raw, opts.name, args, kwargs)
        return _refs(ids)

    def create_actor(
        self, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], opts: Any
    ) -> Any:
        return self.w.call("create_actor", cls, args, kwargs, opts.raw)

    def submit_actor_task(
        self,
        actor: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        num_returns: int,
        concurrency_group: str | None = None,
    ) -> Any:
        if isinstance(num_returns, str):
            _no_nested_generators()
        ids = self.w.call(
            "actor_call", actor.actor_id, method, args, kwargs, num_returns, concurrency_group
        )
        return _refs(ids)

    def get(self, refs: Any, timeout: float | None) -> Any:
        refs, single = refs_to_get(refs)
        for ref in refs:
            if not isinstance(ref, ObjectRef):
                not_a_ref("get", ref)
        if timeout is not None and timeout <= 0:
            timeout = 0.0
        try:
            wires = self.w.call("get", [r._id for r in refs], timeout=timeout)
        except TimeoutError:
            raise exc.GetTimeoutError("Get timed out: some object(s) not ready.") from None
        values = []
        error = None
        for wire in wires:  # every value is loaded, so that the refs it names are counted
            try:
                values.append(self.w.arg(wire))
            except BaseException as e:  # noqa: BLE001 - the first failure is raised below
                error = error or e
        if error is not None:
            raise error
        return values[0] if single else values

    def wait(
        self, refs: list[Any], num_returns: int, timeout: float | None, fetch_local: bool
    ) -> Any:
        ids = [r._id for r in refs]
        try:
            ready = set(self.w.call("wait", ids, num_returns, timeout=timeout))
        except TimeoutError:
            ready = set(self.w.call("wait", ids, 0))
        done = [r for r in refs if r._id in ready][:num_returns]
        chosen = {r._id for r in done}
        return done, [r for r in refs if r._id not in chosen]

    def put(self, value: Any) -> Any:
        try:
            wire = self.w.pack_value(value)
        except Exception as e:
            raise TypeError(
                f"Could not serialize the put value {value!r}: {type(e).__name__}: {e}. "
                "Objects are stored as copies (cloudpickle); put a picklable value."
            ) from e
        return WorkerRef(self.w.call("put", wire, self.w.next_put_id()))

    async def await_ref(self, ref: Any) -> Any:
        import asyncio

        future = self.w.request("get", [ref._id])
        wires = await asyncio.wrap_future(future)
        return self.w.arg(wires[0])

    def ref_future(self, ref: Any) -> Any:
        out: Future[Any] = Future()

        def done(f: Future[Any]) -> None:
            try:
                out.set_result(self.w.arg(f.result()[0]))
            except BaseException as e:  # noqa: BLE001 - handed to the future's reader
                out.set_exception(e)

        self.w.request("get", [ref._id]).add_done_callback(done)
        return out

    def cancel(self, ref: Any, force: bool, recursive: bool) -> None:
        if not isinstance(ref, ObjectRef):
            raise TypeError(
                f"ray.cancel() only supported for object refs. For actors, try ray.kill(). "
                f"Got: {type(ref)}."
            )
        self.w.call("cancel", ref._id, force, recursive)

    def kill(self, handle: Any, no_restart: bool) -> None:
        self.w.call("kill", handle._actor.actor_id, no_restart)

    def get_actor(self, name: str, namespace: str | None) -> Any:
        return self.w.call("get_actor", name, namespace)

    def list_named_actors(self, all_namespaces: bool) -> list[Any]:
        return self.w.call("list_named_actors", all_namespaces)

    def create_placement_group(
        self, bundles: list[dict[str, float]], strategy: str, name: str
    ) -> Any:
        return self.w.call("create_placement_group", bundles, strategy, name)._record

    def remove_placement_group(self, record: Any) -> None:
        self.w.call("remove_placement_group", record.pg_id)

    def placement_group_table(self, record: Any) -> dict[str, Any]:
        return self.w.call("placement_group_table", record.pg_id)

    def placement_groups(self) -> list[Any]:
        return [pg._record for pg in self.w.call("placement_groups")]

    def wait_placement_group(self, record: Any, timeout: float | None) -> bool:
        ready, _ = self.wait([record.ready_ref], 1, timeout, True)
        return bool(ready)

    def current_placement_group(self) -> Any:
        return self.w.call("current_placement_group", _ctx.get())

    def cluster_resources(self) -> dict[str, float]:
        return self.w.call("cluster_resources")

    def available_resources(self) -> dict[str, float]:
        return self.w.call("available_resources")

    def nodes(self) -> list[dict[str, Any]]:
        return self.w.call("nodes")

    def add_node(self, **spec: Any) -> Any:
        raise RuntimeError("nodes are added from the driver (simray.cluster.Cluster), not a task")

    def remove_node(self, node_id: str) -> None:
        raise RuntimeError("nodes are removed from the driver (simray.cluster.Cluster), not a task")

    def context(self) -> dict[str, Any]:
        ctx = dict(_ctx.get() or {})
        call = ctx.get("call_id")
        ctx["cancelled"] = call is not None and call in self.w.cancelled
        return ctx

    def exit_actor(self) -> None:
        """`ray.actor.exit_actor()`: end the calling actor (raises in the calling method)."""
        ctx = _ctx.get() or {}
        if ctx.get("async_actor"):
            raise exc.AsyncioActorExit()
        if ctx.get("actor_id") is not None:
            raise _ActorExit(0)
        raise TypeError(
            "exit_actor API is called on a non-actor worker, 1. Call this API inside an "
            "actor methodsif you'd like to exit the actor gracefully."
        )

    def shutdown(self) -> None:
        """`shutdown()` inside a task ends nothing: the driver owns the session."""


def _no_nested_generators() -> None:
    raise NotImplementedError(
        "the local backend runs generator tasks and methods (num_returns='streaming' or "
        "'dynamic') only when called from the driver, not from inside a task or actor; "
        "call it from the driver, or collect the values into a list in the task"
    )


def _refs(ids: Any) -> Any:
    if ids is None:
        return None
    if isinstance(ids, int):
        return WorkerRef(ids)
    return [WorkerRef(i) for i in ids]


def _set_env_vars(env_vars: dict[str, str] | None) -> dict[str, str | None]:
    """Set a task's runtime_env env_vars; the previous values, to restore after it."""
    if not env_vars:
        return {}
    saved = {k: os.environ.get(k) for k in env_vars}
    os.environ.update(env_vars)
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _set_cuda(value: str | None) -> None:
    if value is None:
        os.environ.pop(_CUDA, None)
    else:
        os.environ[_CUDA] = value


def _returns(n: Any) -> int:
    """How many returns a put index counts above: a generator's (mode, backpressure) one."""
    return 1 if isinstance(n, tuple) else n


def _ready() -> bool:
    return True


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a user-replaced stream may fail; output is best effort
            pass
    drain_fds()


def main(config: dict[str, Any], ticket: str) -> None:
    """Entry point in a freshly forked process: connect, say hello, serve."""
    conn = Client(config["address"], family="AF_UNIX", authkey=config["authkey"])
    conn.send(("hello", ticket, os.getpid()))
    worker = Worker(conn, config)
    if config["cwd"] and os.path.isdir(config["cwd"]):
        os.chdir(config["cwd"])
    sys.stdout = Output(worker, 1)  # type: ignore[assignment]
    sys.stderr = Output(worker, 2)  # type: ignore[assignment]
    capture_fds(worker)  # what C code and child processes write to fds 1 and 2
    signal.signal(signal.SIGINT, worker.on_sigint)
    _session._active = WorkerSession(worker, config["namespace"])
    threading.Thread(target=worker.reader, name="simray-reader", daemon=True).start()
    try:
        worker.serve()  # never returns: the process ends by os._exit
    except _SigtermExit:  # an actor's process, no method running (idle, or a threaded one's)
        pass  # the exception (its traceback) is gone before the instance goes
    worker.sys_exit(1, _SigtermExit.said)
