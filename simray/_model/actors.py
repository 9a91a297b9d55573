"""Actor bookkeeping that the sim and local backends share: named actors by namespace, and the
errors (with Ray 2.60's texts) that an actor's end gives its callers.

Pure: no processes, no clock.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import Any

from simray import exceptions as exc

PENDING_CREATION, ALIVE, DEAD = "pending creation", "alive", "dead"
_EXITED = (
    "The actor is dead because its worker process has died. Worker exit type: INTENDED_USER_EXIT "
    "Worker exit detail: Worker exits by an user request. "
)


_KILLED_WORKER = (
    "The actor is dead because its worker process has died. Worker exit type: "
    "INTENDED_SYSTEM_EXIT Worker exit detail: Worker exits because the actor is killed. "
)


class ActorRecord:
    """What a backend keeps of one actor: where it lives, what it holds, its mailbox of calls
    and its fate. Backends add what running it takes (a process, an event loop)."""

    def __init__(self, actor_id: int, cls: type, opts: Any, namespace: str):
        self.actor_id = actor_id
        self.cls = cls
        self.opts = opts  # its ActorOptions
        self.namespace = namespace
        self.state = PENDING_CREATION
        self.node: Any = None
        self.pool: Any = None
        self.holds: dict[str, int] = {}
        self.gpu_shares: list[tuple[int, int]] = []
        self.mailbox: deque[Any] = deque()
        self.death: BaseException | None = None
        self.restarts = 0
        self.creation: Any = None
        # a weak reference: the name of a gracefully ended actor stays taken while user code
        # holds a handle, as in Ray
        self._handle: Any = None
        # Called (from a weakref callback, so anywhere) when the last strong handle is gone; a
        # backend that ends non-detached actors out of scope sets it, as Ray's owner does.
        self.on_unreferenced: Any = None
        # Set when it ends out of scope: whether its constructor had not finished (Ray's
        # `never_started` then, even when the constructor was running)
        self.never_started: bool | None = None
        # The pid of its last process once dead (0 if it never had one): `death_cause` shows it
        self.death_pid = 0

    def hex(self) -> str:
        return f"{self.actor_id:032x}"

    def live_handle(self) -> Any:
        return self._handle() if self._handle is not None else None

    def handle(self) -> Any:
        """The strong handle to this actor (the live one if user code holds one): every copy
        of it in the driver, in stored values and in arguments is this one object, so Python's
        reference count is Ray's distributed count of the actor's handles."""
        handle = self.live_handle()
        if handle is None:
            from simray._actor import ActorHandle  # the api layer's class, loaded by then

            handle = ActorHandle(self, self.cls)
            self._handle = weakref.ref(handle, self._handle_gone)
        return handle

    def weak_handle(self) -> Any:
        """A handle that does not keep the actor alive: Ray's `get_actor` and `current_actor`
        handles do not count towards the actor's references."""
        from simray._actor import ActorHandle

        return ActorHandle(self, self.cls)

    def _handle_gone(self, ref: Any) -> None:
        if ref is self._handle and self.on_unreferenced is not None:
            self.on_unreferenced(self)

    def gpu_ids(self) -> list[int]:
        ids = self.pool.gpu_ids if self.pool is not None else []
        return sorted({ids[i] for i, _ in self.gpu_shares})


class NamedActors:
    """Actor names per namespace, as Ray's GCS keeps them: a dead actor holds its name only
    while a handle of it lives (a killed one gives it up at once, see `release`)."""

    def __init__(self) -> None:
        self.named: dict[tuple[str, str], Any] = {}

    def existing(self, namespace: str, opts: Any) -> Any:
        """The handle `get_if_exists` returns for a taken name, None for a free one; Ray's
        ActorAlreadyExistsError when the name is taken and `get_if_exists` is not set."""
        actor = self.lookup(namespace, opts.name)
        if actor is None:
            return None
        if opts.get_if_exists:  # Ray returns `get_actor`'s handle, which does not count
            return actor.weak_handle()
        raise exc.ActorAlreadyExistsError(
            f"The name {opts.name} (namespace={namespace}) is already taken. Please use a "
            f"different name or get the existing actor using ray.get_actor('{opts.name}', "
            f"namespace='{namespace}')"
        )

    def add(self, actor: Any) -> None:
        if actor.opts.name is not None:
            self.named[(actor.namespace, actor.opts.name)] = actor

    def release(self, actor: Any) -> None:
        if actor.opts.name is not None:
            self.named.pop((actor.namespace, actor.opts.name), None)

    def lookup(self, namespace: str, name: str) -> Any:
        """The actor holding a name; a dead one holds it only while a handle lives."""
        actor = self.named.get((namespace, name))
        if actor is not None and actor.state == DEAD and actor.live_handle() is None:
            del self.named[(namespace, name)]
            return None
        return actor

    def listed(self, all_namespaces: bool, namespace: str) -> list[dict[str, str]]:
        """`ray.util.list_named_actors` rows."""
        return [
            {"name": name, "namespace": ns}
            for (ns, name) in list(self.named)
            if self.lookup(ns, name) is not None and (all_namespaces or ns == namespace)
        ]

    def get(self, name: str, namespace: str) -> Any:
        """`ray.get_actor`: the handle, or Ray's ValueError."""
        if not name:
            raise ValueError("Please supply a non-empty value to get_actor")
        actor = self.lookup(namespace, name)
        if actor is None:
            raise ValueError(
                f"Failed to look up actor with name '{name}'. This could because 1. You are trying "
                "to look up a named actor you didn't create. 2. The named actor died. 3. You did "
                "not use a namespace matching the namespace of the actor."
            )
        return actor.weak_handle()


def killed(actor: Any, pid: int = 0, restart_allowed: bool = False) -> exc.ActorDiedError:
    """What calls of an actor ended by `ray.kill` raise (Ray names its pid once it had one).
    With `no_restart=False` and no restart left, Ray's GCS hears of it as a worker's death."""
    return exc.ActorDiedError(
        class_name=actor.opts.class_name,
        actor_id=actor.hex(),
        pid=pid if actor.node is not None else 0,
        namespace=actor.namespace,
        ip=actor.node.ip if actor.node else "",
        error_message=(_KILLED_WORKER if restart_allowed else "")
        + "The actor is dead because it was killed by `ray.kill`.",
    )


# What an in-flight call of an actor whose process vanished (`ray.kill(no_restart=False)`,
# `os._exit`, SIGKILL) is told while the actor restarts.
KILLED_IN_FLIGHT = "RpcError: RPC error: Socket closed rpc_code: 14"
# The exit detail of such a process when the actor may not restart (Ray 2.60's raylet).
CONNECTION_LOST = (
    "Worker unexpectedly exits with a connection error code 2. End of file. Some common causes "
    "include: (1) the process was killed by the OOM killer due to high memory usage, (2) ray "
    "stop --force was called, or (3) the worker crashed unexpectedly due to SIGSEGV or another "
    "unexpected error. If the process was killed by the kernel OOM killer (verifiable by "
    "checking for OOM in dmesg of the OOMing node), consider enabling resource isolation via "
    "--enable-resource-isolation to prevent node deaths by resource contention and significant "
    "loss of progress by uninformed kernel OOM killing."
)


def sys_exit_details(code: Any, why: str = "") -> tuple[str, str]:
    """`sys.exit(code)` in an actor method, code not 0: the exit detail of the dead actor, and
    what a call in flight is told while it restarts (Ray 2.60); `why` follows the code (as
    "The process receives a SIGTERM.")."""
    said = f"Worker exits with an exit code {code}." + (f" {why}" if why else "")
    return f"Worker exits unexpectedly. {said}", f"UnexpectedSystemExit: {said}"


def out_of_scope(actor: Any, pid: int = 0) -> exc.ActorDiedError:
    """What calls (through a `get_actor` handle) of an actor ended out of scope raise."""
    return exc.ActorDiedError(
        class_name=actor.opts.class_name,
        actor_id=actor.hex(),
        pid=pid if actor.node is not None else 0,
        name=actor.opts.name or "",
        namespace=actor.namespace,
        ip=actor.node.ip if actor.node else "",
        reason="all references to the actor were removed",
        never_started=actor.state != ALIVE,  # its constructor had not finished
    )


def _intended_exit(actor: Any, pid: int, detail: str) -> exc.ActorDiedError:
    """An actor whose process ended as it asked (exit code 0), with Ray's detail of how."""
    return exc.ActorDiedError(
        class_name=actor.opts.class_name,
        actor_id=actor.hex(),
        pid=pid,
        namespace=actor.namespace,
        ip=actor.node.ip,
        error_message=_EXITED + detail,
    )


def exited(actor: Any, pid: int = 0) -> exc.ActorDiedError:
    """What the caller of `exit_actor()`, and the calls after it, raise."""
    return _intended_exit(actor, pid, "Worker exits with an exit code 0. exit_actor() is called.")


def sys_exited(actor: Any, pid: int = 0) -> exc.ActorDiedError:
    """`sys.exit(0)` in an actor method: an intended exit, as `exit_actor()` but unnamed."""
    return _intended_exit(actor, pid, "Worker exits with an exit code 0.")


def exited_while_busy(actor: Any) -> exc.ActorUnavailableError:
    """The caller of `exit_actor()` while other calls still run: the actor is not dead yet."""
    return exc.ActorUnavailableError(
        "The actor is temporarily unavailable: IntentionalSystemExit: Worker exits with an exit "
        "code 0. exit_actor() is called.",
        actor.hex(),
    )


def terminated(actor: Any, pid: int = 0) -> exc.ActorDiedError:
    """Calls after the actor's process ended by request (`__ray_terminate__`, an exit): Ray
    says the same as for `exit_actor()`."""
    return exited(actor, pid)


def process_died(actor: Any, detail: str, pid: int = 0) -> exc.ActorDiedError:
    """Calls of an actor whose process died and may not restart (Ray names its pid)."""
    return exc.ActorDiedError(
        class_name=actor.opts.class_name,
        actor_id=actor.hex(),
        pid=pid,
        namespace=actor.namespace,
        ip=actor.node.ip if actor.node else "",
        error_message="The actor is dead because its worker process has died. Worker exit type: "
        f"SYSTEM_ERROR Worker exit detail: {detail}",
    )


def unavailable(actor: Any, detail: str) -> exc.ActorUnavailableError:
    """A call in flight when the actor's process died, not retried while it restarts."""
    return exc.ActorUnavailableError(f"The actor is temporarily unavailable: {detail}", actor.hex())


def may_restart(actor: Any) -> bool:
    """Whether a lost actor process restarts (`max_restarts`, -1 for ever)."""
    restarts = actor.opts.max_restarts
    return restarts == -1 or actor.restarts < restarts


def may_retry(actor: Any, call: Any) -> bool:
    """Whether a call in flight when the process died runs again (`max_task_retries`)."""
    retry = actor.opts.max_task_retries
    return retry == -1 or call.attempts <= retry
