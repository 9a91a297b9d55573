"""The `local` backend's driver: tasks and actors on real worker processes of this machine.

The driver holds the scheduler (the sim's, over `_model` resources and placement), the object
table and the resource accounting, under one lock shared with the I/O thread that receives the
workers' messages. Workers run what they are sent and ask the driver for everything else.
`LocalBackend` is the session (nodes, actors, placement groups, context, shutdown); its tasks
(`tasks`), object API (`object_api`) and workers' requests (`requests`) are mixed in.
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

from simray import exceptions as exc
from simray._args import ArgPacker
from simray._context_fields import driver_context
from simray._ids import IdAllocator
from simray._local import shm
from simray._local.actors import Actors
from simray._local.monitor import LocalMonitor
from simray._local.object_api import ObjectAPI
from simray._local.objects import FAILED, LocalRef, Table
from simray._local.pgs import PlacementGroups
from simray._local.procs import Procs, WorkerProc
from simray._local.requests import WorkerRequests
from simray._local.state import TaskTable
from simray._local.streams import LocalStream
from simray._local.tasks import LocalTask, Tasks
from simray._model.resources import UNIT, check_node_resources
from simray._output import env_bool
from simray._runtime_env import env_vars_of
from simray._session import drain_grace
from simray._sim.cluster import new_node, node_by_id
from simray._sim.scheduler import (
    DEFAULT_MEMORY,
    DEFAULT_OBJECT_STORE_MEMORY,
    Scheduler,
    SimNode,
    node_labels,
)
from simray._sim.state import task_table_cap

_CUDA = "CUDA_VISIBLE_DEVICES"
PRESTART_MAX = 8
STARTUP_TIMEOUT = 60.0


class LocalBackend(Tasks, ObjectAPI, WorkerRequests):
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
        log_to_driver: bool | None = None,
    ):
        self.drain_grace = drain_grace()  # read (and refused) before any process starts
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
        self.monitor = LocalMonitor(self)  # Ray's infeasible-demand notices (`_local.monitor`)
        self.scheduler.on_infeasible = self.monitor.wake
        self.pgs = PlacementGroups(self)
        self.pgs.on_infeasible = self.monitor.wake
        self.scheduler.pgs = self.pgs
        self.actors = Actors(self)
        self.running: dict[int, LocalTask] = {}
        self.task_table = TaskTable(task_table_cap(), self.now)  # what ray.util.state lists
        self.streams: dict[int, LocalStream] = {}  # generator task or call id -> its stream
        self.submitted: Any = None  # the task `_submit` made last (under the lock)
        self.pack_arg = ArgPacker(self.pack, LocalRef, self.adopt)
        self.fn_blobs: dict[int, bytes] = {}
        self._fn_keys: dict[int, tuple[int, Any]] = {}
        self.idle: list[WorkerProc] = []
        self.need_worker: deque[Any] = deque()  # callables waiting for a process
        self.driver_cuda = os.environ.get(_CUDA)
        self.shm_prefix = f"simray_{os.getpid()}_{secrets.token_hex(4)}_"
        self._shm_count = 0
        self.sent_segments: set[str] = set()  # the driver's segments workers were sent
        self._unmap: list[str] = []  # freed ones whose mappings workers are told to drop
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
        if log_to_driver is None:
            log_to_driver = env_bool("RAY_LOG_TO_DRIVER", True)
        self.procs.log_to_driver = bool(log_to_driver)
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
            node = new_node(
                len(self.scheduler.all_nodes), num_cpus, num_gpus, resources, memory,
                object_store_memory, labels, accelerator_type,
            )  # fmt: skip
            self.scheduler.add_node(node)
            return node

    def remove_node(self, node_id: str) -> None:
        with self.lock:
            node = node_by_id(self.scheduler.all_nodes, node_id, "local")
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

    def state_rows(self, kind: str) -> list[dict[str, Any]]:
        """`ray.util.state`'s rows of `kind` ("tasks", "objects", ...), as the sim's."""
        from simray._local import state

        with self.lock:
            return getattr(state, kind)(self)

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
            self.actors.kill(handle._actor, no_restart)

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
        worker_id = f"{os.getpid():056x}"
        return driver_context(
            head.node_id, node_labels(head), self.namespace, worker_id, self.runtime_env
        )

    def exit_actor(self) -> None:
        raise TypeError(
            "exit_actor API is called on a non-actor worker, 0. Call this API inside an "
            "actor methodsif you'd like to exit the actor gracefully."
        )

    # -- end -------------------------------------------------------------------------------------
    def drain(self) -> None:
        """Let tasks still queued or running finish, for up to `SIMRAY_SHUTDOWN_GRACE` seconds
        (default 1; 0: no drain), as Ray runs work submitted and never waited on before the
        driver's job ends (the sim backend does the same in virtual time). Actors are not
        waited for."""
        deadline = time.monotonic() + self.drain_grace
        while time.monotonic() < deadline:
            with self.lock:
                busy = self.scheduler.queues or any(t.actor is None for t in self.running.values())
            if not busy:
                return
            time.sleep(0.01)

    def shutdown(self) -> None:
        if self.closed:
            return
        self.drain()
        self.closed = True
        self.table.closed = True
        self.procs.close()
        self.arena.close()
        if shm.Arena.current is self.arena:
            shm.Arena.current = None
        shm.unlink_prefix(self.shm_prefix)
        _sessions.discard(self)


_sessions: weakref.WeakSet[LocalBackend] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    """At interpreter exit no worker process or shared-memory segment stays behind."""
    for session in list(_sessions):
        session.shutdown()
