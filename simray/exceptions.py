"""Ray 2.60's exception classes (same names, bases, constructors and messages), without Ray,
followed by simray's own (``SimrayError``, ``DeadlockError``)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    import traceback

# pickle and traceback are imported where an error is serialised or formatted: a session that
# raises nothing never needs them (~3 ms of `simray exec` start-up).

__all__ = [
    "RAY_EXCEPTION_TYPES",
    "ActorAlreadyExistsError",
    "ActorDiedError",
    "ActorHandleNotFoundError",
    "ActorPlacementGroupRemoved",
    "ActorUnavailableError",
    "ActorUnschedulableError",
    "AsyncioActorExit",
    "AuthenticationError",
    "CrossLanguageError",
    "DeadlockError",
    "LivelockError",
    "GetTimeoutError",
    "LocalRayletDiedError",
    "NodeDiedError",
    "ObjectFetchTimedOutError",
    "ObjectFreedError",
    "ObjectLostError",
    "ObjectReconstructionFailedError",
    "ObjectRefStreamEndOfStreamError",
    "ObjectStoreFullError",
    "OufOfBandObjectRefSerializationException",
    "OutOfDiskError",
    "OutOfMemoryError",
    "OwnerDiedError",
    "PendingCallsLimitExceeded",
    "PlasmaObjectNotAvailable",
    "RayActorError",
    "RayCgraphCapacityExceeded",
    "RayChannelError",
    "RayChannelTimeoutError",
    "RayDirectTransportError",
    "RayError",
    "RaySystemError",
    "RayTaskError",
    "ReferenceCountingAssertionError",
    "RpcError",
    "RuntimeEnvSetupError",
    "SimrayError",
    "StreamingGeneratorReplayInconsistentError",
    "TaskCancelledError",
    "TaskPlacementGroupRemoved",
    "TaskUnschedulableError",
    "UnserializableException",
    "UserCodeException",
]


def _logger() -> Any:
    """This module's logger; logging is imported only when there is something to log."""
    import logging

    return logging.getLogger(__name__)


# colorama.Fore.CYAN / colorama.Fore.RESET, which Ray uses for the task header line.
_CYAN = "\x1b[36m"
_RESET = "\x1b[39m"

# ray._private.ray_constants.CALL_STACK_LINE_DELIMITER: joins the frames of a call site.
_CALL_STACK_LINE_DELIMITER = " | "

# The values of Ray's protobuf enums that simray callers may pass as plain ints.
_LANGUAGE_NAMES = {0: "PYTHON", 1: "JAVA", 2: "CPP"}
_UNRECONSTRUCTABLE_ERROR_TYPE_NAMES = {
    12: "OBJECT_UNRECONSTRUCTABLE_MAX_ATTEMPTS_EXCEEDED",
    13: "OBJECT_UNRECONSTRUCTABLE_LINEAGE_EVICTED",
    27: "OBJECT_UNRECONSTRUCTABLE_PUT",
    28: "OBJECT_UNRECONSTRUCTABLE_RETRIES_DISABLED",
    29: "OBJECT_UNRECONSTRUCTABLE_BORROWED",
    30: "OBJECT_UNRECONSTRUCTABLE_REF_NOT_FOUND",
    31: "OBJECT_UNRECONSTRUCTABLE_TASK_CANCELLED",
    32: "OBJECT_UNRECONSTRUCTABLE_LINEAGE_DISABLED",
}


@functools.cache
def _pickle_module() -> ModuleType:
    """cloudpickle if installed (Ray pickles with its vendored copy), else the stdlib pickle.

    cloudpickle pickles classes defined in functions or ``__main__`` by value, so a test's local
    exception class stays the cause instead of being replaced as "isn't serializable".
    """
    try:
        import cloudpickle
    except ImportError:
        import pickle

        return pickle
    return cloudpickle


def _language_name(language: str | int) -> str:
    """The name of a ``Language`` value given as its name or its protobuf number."""
    if isinstance(language, int):
        return _LANGUAGE_NAMES.get(language, str(language))
    return language


class _RayException(NamedTuple):
    """Plain stand-in for Ray's ``RayException`` protobuf message."""

    language: str
    serialized_exception: bytes
    formatted_exception_string: str


class RayError(Exception):
    """Super class of all ray exception types."""

    def to_bytes(self) -> bytes:
        """Serialise this exception with its formatted traceback, as Ray stores task errors."""
        import pickle
        import traceback

        exc_info = (type(self), self, self.__traceback__)
        formatted_exception_string = "\n".join(traceback.format_exception(*exc_info))
        record = _RayException(
            language="PYTHON",
            serialized_exception=_pickle_module().dumps(self),
            formatted_exception_string=formatted_exception_string,
        )
        return pickle.dumps(tuple(record))

    @staticmethod
    def from_bytes(b: bytes) -> RayError:
        """Rebuild an exception written by ``to_bytes``."""
        import pickle

        return RayError.from_ray_exception(_RayException(*pickle.loads(b)))

    @staticmethod
    def from_ray_exception(ray_exception: Any) -> RayError:
        """Unpickle a Python exception record; one from another language becomes a
        ``CrossLanguageError`` and an unpicklable one an ``UnserializableException``."""
        if _language_name(ray_exception.language) == "PYTHON":
            try:
                return _pickle_module().loads(ray_exception.serialized_exception)
            except Exception:  # noqa: BLE001 - whatever unpickling raises, keep the text
                original_stacktrace = getattr(
                    ray_exception,
                    "formatted_exception_string",
                    "No formatted exception string available.",
                )
                return UnserializableException(original_stacktrace)
        else:
            return CrossLanguageError(ray_exception)


class CrossLanguageError(RayError):
    """Raised from another language."""

    def __init__(self, ray_exception: Any) -> None:
        language = _language_name(ray_exception.language)
        super().__init__(
            f"An exception raised from {language}:\n{ray_exception.formatted_exception_string}"
        )


class TaskCancelledError(RayError):
    """Raised when this task is cancelled."""

    def __init__(self, task_id: str | None = None, error_message: str | None = None) -> None:
        self.task_id = task_id
        self.error_message = error_message

    def __str__(self) -> str:
        msg = ""
        if self.task_id:
            msg = "Task: " + str(self.task_id) + " was cancelled. "
        if self.error_message:
            msg += self.error_message
        return msg


# Path fragments of traceback ``File ...`` lines that belong to Ray-internal machinery: noise in
# a user-facing traceback. Kept as Ray's so that traceback strings coming from Ray render alike.
_RAY_CORE_INTERNAL_FRAME_MARKERS = (
    "ray/worker.py",
    "ray/_private/",
    "ray/util/tracing/",
    "ray/_raylet.pyx",
)

# Ray Data execution-layer frames, hidden too when the cause is user code (a Ray Data UDF).
_RAY_DATA_INTERNAL_FRAME_MARKERS = ("ray/data/_internal/",)


def _is_hidden_internal_frame(line: str, extra_markers: Sequence[str] = ()) -> bool:
    """Whether ``line`` is the ``  File ...`` header of a frame internal to Ray."""
    if not line.startswith("  File "):
        return False
    return any(marker in line for marker in (*_RAY_CORE_INTERNAL_FRAME_MARKERS, *extra_markers))


def _is_caret_line(line: str) -> bool:
    """Whether ``line`` is a caret annotation such as ``    ^^^^`` under a source line."""
    stripped = line.strip()
    return bool(stripped) and all(c in "^~" for c in stripped)


class RayTaskError(RayError):
    """A task raised an exception; stored for each of its outputs and raised by ``get``.

    ``as_instanceof_cause()`` makes it an instance of the cause's class too, so that
    ``except ValueError`` catches a task's ``ValueError``.
    """

    def __init__(
        self,
        function_name: str,
        traceback_str: str,
        cause: BaseException,
        proctitle: str | None = None,
        pid: int | None = None,
        ip: str | None = None,
        actor_repr: str | None = None,
        actor_id: str | None = None,
    ) -> None:
        # Ray falls back to its process title and node IP; simray to the task's title and
        # loopback. The simulator always passes all three.
        if proctitle:
            self.proctitle = proctitle
        else:
            self.proctitle = f"ray::{function_name}"
        self.pid = pid or os.getpid()
        self.ip = ip or "127.0.0.1"
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.actor_repr = actor_repr
        self._actor_id = actor_id
        self.cause = cause

        try:
            _pickle_module().dumps(cause)
        except Exception as e:  # Ray catches PicklingError/TypeError; any failure counts here.
            err_type = f"{cause.__class__.__module__}.{cause.__class__.__name__}"
            err_msg = (
                f"Exception {err_type} isn't serializable: {e}.\n"
                f"Original exception details:\n{traceback_str}"
            )
            _logger().exception(
                f"The original cause of the RayTaskError ({err_type}) isn't serializable."
            )
            self.cause = RayError(err_msg)

        # BaseException.__reduce__ rebuilds from self.args, so these must be the init arguments.
        self.args = (function_name, traceback_str, self.cause, proctitle, pid, ip)

        assert traceback_str is not None

    def make_dual_exception_instance(self) -> RayTaskError:
        """An instance of both RayTaskError and the cause's class.

        Raises TypeError if the cause class can't be subclassed.
        """
        # ExceptionGroup has a different __new__() signature from Exception.
        if sys.version_info >= (3, 11) and isinstance(self.cause, ExceptionGroup):
            return self._make_exceptiongroup_dual_exception_instance()
        return self._make_normal_dual_exception_instance()

    def _make_normal_dual_exception_instance(self) -> RayTaskError:
        return _dual_class(self.cause.__class__, str(self), exception_group=False)(self.cause)

    def _make_exceptiongroup_dual_exception_instance(self) -> RayTaskError:
        return _dual_class(self.cause.__class__, str(self), exception_group=True)(self.cause)

    def as_instanceof_cause(self) -> RayTaskError:
        """An exception that is an instance of both RayTaskError and the cause's class.

        If the cause class can't be subclassed, logs a warning and returns ``self``.
        """
        cause_cls = self.cause.__class__
        if issubclass(RayTaskError, cause_cls):
            return self  # already satisfied

        try:
            return self.make_dual_exception_instance()
        except TypeError as e:
            _logger().warning(
                f"User exception type {type(self.cause)} in RayTaskError can't"
                " be subclassed! This exception is raised as"
                " RayTaskError only. You can use `ray_task_error.cause` to"
                f" access the user exception. Failure in subclassing: {e}"
            )
            return self
        except Exception as e:  # noqa: BLE001 - as Ray: any failure leaves the plain error
            _logger().warning(
                "Failed to combine RayTaskError with user exception type "
                f"{type(self.cause)}; raising RayTaskError only. This can "
                "happen when the user exception overrides attributes like "
                "`args` or otherwise blocks subclass construction. "
                f"Failure in subclassing: {e}"
            )
            return self

    def __str__(self) -> str:
        """The traceback with each "Traceback ..." line replaced by the task's header line."""
        lines = self.traceback_str.strip().split("\n")
        out = []
        # When the cause is user code (a Ray Data UDF), Ray Data's own frames are hidden too.
        hide_data_frames = isinstance(self.cause, UserCodeException)
        # True while inside a hidden frame whose indented continuation lines are dropped.
        in_hidden_frame = False

        for line in lines:
            if line.startswith("Traceback "):
                in_hidden_frame = False
                traceback_line = f"{_CYAN}{self.proctitle}(){_RESET} (pid={self.pid}, ip={self.ip}"
                if self.actor_repr:
                    traceback_line += f", actor_id={self._actor_id}, repr={self.actor_repr})"
                else:
                    traceback_line += ")"
                out.append(traceback_line)
            elif _is_hidden_internal_frame(
                line,
                _RAY_DATA_INTERNAL_FRAME_MARKERS if hide_data_frames else (),
            ):
                in_hidden_frame = True
                if "ray._raylet.raise_if_dependency_failed" in line:
                    # An input argument failed: say so in place of the internal frame.
                    out.append(
                        "  At least one of the input arguments for this task could not be computed:"
                    )
            elif in_hidden_frame and line.startswith("    "):
                # A continuation line (source code or caret) of a hidden frame.
                if not hide_data_frames:
                    # Ray Core-only: drop the source line, keep any caret.
                    in_hidden_frame = False
            elif (
                hide_data_frames
                and _is_caret_line(line)
                and not (out and out[-1].startswith("    "))
            ):
                # An orphaned caret line whose source line was hidden or absent.
                pass
            else:
                in_hidden_frame = False
                out.append(line)
        return "\n".join(out)


def _dual_class(cause_cls: type, error_msg: str, exception_group: bool) -> type:
    """The class `RayTaskError(<Cause>)`: both a RayTaskError and the cause's class, as Ray's."""

    class cls(RayTaskError, cause_cls):  # type: ignore[misc,valid-type]
        if exception_group:

            def __new__(cls, cause):  # type: ignore[no-untyped-def]
                return super().__new__(cls, cause.message, cause.exceptions)

        def __init__(self, cause):  # type: ignore[no-untyped-def]
            self.cause = cause
            # Kept apart so a user-defined read-only or property `args` isn't written to.
            self._ray_task_error_args = (cause,)

        @property
        def args(self):  # type: ignore[no-untyped-def]
            return self._ray_task_error_args

        @args.setter
        def args(self, value):  # type: ignore[no-untyped-def]
            self._ray_task_error_args = value

        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (cls, self._ray_task_error_args)

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.cause, name)

        def __str__(self):  # type: ignore[no-untyped-def]
            return error_msg

    name = f"RayTaskError({cause_cls.__name__})"
    cls.__name__ = name
    cls.__qualname__ = name
    return cls


class LocalRayletDiedError(RayError):
    """Indicates that the task's local raylet died."""

    def __str__(self) -> str:
        return "The task's local raylet died. Check raylet.out for more information."


class WorkerCrashedError(RayError):
    """Indicates that the worker died unexpectedly while executing a task."""

    def __str__(self) -> str:
        return (
            "The worker died unexpectedly while executing this task. "
            "Check python-core-worker-*.log files for more information."
        )


class RayActorError(RayError):
    """The actor failed before finishing a task: dead (``ActorDiedError``) or unreachable for
    now (``ActorUnavailableError``)."""

    BASE_ERROR_MSG = "The actor experienced an error before finishing this task."

    def __init__(
        self,
        actor_id: str | None = None,
        error_msg: str = BASE_ERROR_MSG,
        actor_init_failed: bool = False,
        preempted: bool = False,
    ) -> None:
        #: The actor ID in hex string.
        self.actor_id = actor_id
        #: The full error message.
        self.error_msg = error_msg
        #: Whether the actor failed in the middle of __init__.
        self._actor_init_failed = actor_init_failed
        #: Whether the actor died because the node was preempted.
        self._preempted = preempted

    def __str__(self) -> str:
        return self.error_msg

    @property
    def preempted(self) -> bool:
        """Whether the actor died because its node was preempted."""
        return self._preempted

    @property
    def actor_init_failed(self) -> bool:
        """Whether the actor died because its ``__init__`` raised."""
        return self._actor_init_failed


class ActorDiedError(RayActorError):
    """The actor died before finishing a task, or a task was submitted to a dead actor."""

    BASE_ERROR_MSG = "The actor died unexpectedly before finishing this task."

    def __init__(
        self,
        cause: RayTaskError | None = None,
        *,
        class_name: str | None = None,
        actor_id: str | None = None,
        pid: int = 0,
        name: str = "",
        namespace: str = "",
        ip: str = "",
        reason: str | None = None,
        error_message: str | None = None,
        never_started: bool = False,
        preempted: bool = False,
    ) -> None:
        """Build the message Ray builds from the cause of death.

        Args:
            cause: The ``RayTaskError`` raised by the actor's ``__init__``, or None.
            class_name, actor_id, pid, name, namespace, ip, never_started: The fields of Ray's
                ``ActorDiedErrorContext`` (``ray_namespace``, ``node_ip_address`` there) for a
                death that isn't the creation task's failure; 0 and "" leave a line out.
            reason: Why the actor is dead, as in "it was killed by `ray.kill`"; the message line
                is "The actor is dead because <reason>.".
            error_message: The whole message line instead of ``reason``.
            preempted: Whether the actor's node was preempted (drained by the autoscaler).
        """
        has_context = any(v is not None for v in (class_name, actor_id, reason, error_message))
        if cause is not None and not isinstance(cause, RayTaskError):
            raise TypeError(f"cause must be a RayTaskError or None, not {type(cause).__name__}")
        if cause is not None and has_context:
            raise TypeError("pass either a RayTaskError cause or the actor's context, not both")
        if reason is not None and error_message is not None:
            raise ValueError("pass either reason or error_message, not both")

        error_msg = ActorDiedError.BASE_ERROR_MSG
        actor_init_failed = False

        if cause is not None:
            actor_init_failed = True
            actor_id = cause._actor_id
            error_msg = (
                f"The actor died because of an error raised in its creation task, {cause.__str__()}"
            )
        elif has_context:
            if error_message is None:
                error_message = f"The actor is dead because {reason}." if reason else ""
            error_msg_lines = [ActorDiedError.BASE_ERROR_MSG]
            error_msg_lines.append(f"\tclass_name: {class_name or ''}")
            error_msg_lines.append(f"\tactor_id: {actor_id or ''}")
            # The lines below are optional fields.
            if pid != 0:
                error_msg_lines.append(f"\tpid: {pid}")
            if name != "":
                error_msg_lines.append(f"\tname: {name}")
            if namespace != "":
                error_msg_lines.append(f"\tnamespace: {namespace}")
            if ip != "":
                error_msg_lines.append(f"\tip: {ip}")
            error_msg_lines.append(error_message)
            if never_started:
                error_msg_lines.append(
                    "The actor never ran - it was cancelled before it started running."
                )
            error_msg = "\n".join(error_msg_lines)
        super().__init__(actor_id, error_msg, actor_init_failed, preempted)

    @staticmethod
    def from_task_error(task_error: RayTaskError) -> ActorDiedError:
        """The error of an actor whose creation task raised ``task_error``."""
        return ActorDiedError(task_error)


class ActorUnavailableError(RayActorError):
    """Raised when the actor is temporarily unavailable but may be available later."""

    def __init__(self, error_message: str, actor_id: str | bytes | None) -> None:
        if isinstance(actor_id, bytes):
            actor_id = actor_id.hex()
        error_msg = (
            f"The actor {actor_id} is unavailable: {error_message}. The task may or "
            "may not have been executed on the actor."
        )
        actor_init_failed = False
        preempted = False

        super().__init__(actor_id, error_msg, actor_init_failed, preempted)


class RaySystemError(RayError):
    """Indicates that Ray encountered a system error (for example the raylet was killed)."""

    def __init__(self, client_exc: object, traceback_str: str | None = None) -> None:
        self.client_exc = client_exc
        self.traceback_str = traceback_str

    def __str__(self) -> str:
        error_msg = f"System error: {self.client_exc}"
        if self.traceback_str:
            error_msg += f"\ntraceback: {self.traceback_str}"
        return error_msg


class AuthenticationError(RayError):
    """A missing or mismatching cluster token (only when ``RAY_AUTH_MODE`` isn't disabled)."""

    def __init__(self, message: str) -> None:
        self.message = message

        # Always hide traceback for cleaner output
        self.__suppress_context__ = True
        super().__init__(message)

    def __str__(self) -> str:
        # simray has no token authentication: its mode is always Ray's "disabled".
        auth_mode_note = " Note: RAY_AUTH_MODE is currently 'disabled' (not 'token')."
        help_text = (
            " Ensure that the token for the cluster is available in a local file (e.g., "
            "~/.ray/auth_token or via RAY_AUTH_TOKEN_PATH) or as the `RAY_AUTH_TOKEN` "
            "environment variable. To generate a token for local development, use "
            "`ray get-auth-token --generate` For remote clusters, ensure that the token is "
            "propagated to all nodes of the cluster when token authentication is enabled. "
            "For more information, see: https://docs.ray.io/en/latest/ray-security/token-auth.html"
        )
        return self.message + "." + auth_mode_note + help_text


class UserCodeException(RayError):
    """Wraps an exception raised by user code (such as a Ray Data UDF); ``retry_exceptions``
    still looks at the underlying cause."""


class ObjectStoreFullError(RayError):
    """The object store is full even after retries, of objects still in scope."""

    def __str__(self) -> str:
        return super().__str__() + (
            "\n"
            "The local object store is full of objects that are still in "
            "scope and cannot be evicted. Tip: Use the `ray memory` command "
            "to list active objects in the cluster."
        )


class OutOfDiskError(RayError):
    """The object can't be stored: both the object store and the local disk are full."""

    def __str__(self) -> str:
        return super().__str__() + (
            "\n"
            "The object cannot be created because the local object store"
            " is full and the local disk's utilization is over capacity"
            " (95% by default)."
            "Tip: Use `df` on this node to check disk usage and "
            "`ray memory` to check object store memory usage."
        )


class OutOfMemoryError(RayError):
    """The node ran low on memory and the task or actor was killed to free it.

    Not a subclass of Python's ``MemoryError``.
    """

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


class NodeDiedError(RayError):
    """Indicates that the node is either dead or unreachable."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


def _hex(value: str | bytes) -> str:
    """An ID as a hex string, whether given as hex or as raw bytes."""
    return value.hex() if isinstance(value, bytes) else value


def _read_owner_address(addr: Any) -> tuple[str, int, str, str] | None:
    """(ip, port, worker ID, node ID or "unknown") of an owner address mapping, or None."""
    try:
        node_id = _hex(addr["node_id"]) if addr.get("node_id") else "unknown"
        return addr["ip_address"], addr["port"], _hex(addr["worker_id"]), node_id
    except (AttributeError, KeyError, TypeError):
        return None


class ObjectLostError(RayError):
    """The object is lost from distributed memory, due to node failure or system error."""

    def __init__(
        self,
        object_ref_hex: str,
        owner_address: Mapping[str, Any] | None,
        call_site: str,
    ) -> None:
        """Args:
        object_ref_hex: Hex ID of the object.
        owner_address: The owner's address if known, with the keys of Ray's ``Address``
            message: ``ip_address``, ``port``, ``worker_id``, ``node_id`` (IDs as hex or bytes).
        call_site: Where the ``ObjectRef`` was created, frames joined by " | ".
        """
        self.object_ref_hex = object_ref_hex
        self.owner_address = owner_address
        self.call_site = call_site.replace(_CALL_STACK_LINE_DELIMITER, "\n  ")

    def _base_str(self) -> str:
        msg = f"Failed to retrieve object {self.object_ref_hex}. "
        if self.call_site:
            msg += f"The ObjectRef was created at: {self.call_site}"
        else:
            msg += (
                "To see information about where this ObjectRef was created "
                "in Python, set the environment variable "
                "RAY_record_ref_creation_sites=1 during `ray start` and "
                "`ray.init()`."
            )
        return msg

    def __str__(self) -> str:
        return (
            self._base_str()
            + "\n\n"
            + (
                f"All copies of {self.object_ref_hex} have been lost due to node "
                "failure. Check cluster logs (`/tmp/ray/session_latest/logs`) for "
                "more information about the failure."
            )
        )


class ObjectFetchTimedOutError(ObjectLostError):
    """An object fetch timed out because no locations were found for the object."""

    def __str__(self) -> str:
        return (
            self._base_str()
            + "\n\n"
            + (
                f"Fetch for object {self.object_ref_hex} timed out because no "
                "locations were found for the object. This may indicate a "
                "system-level bug."
            )
        )


class RpcError(RayError):
    """Indicates an error in the underlying RPC system."""

    def __init__(self, message: str, rpc_code: int | None = None) -> None:
        self.message = message
        self.rpc_code = rpc_code

    def __str__(self) -> str:
        return self.message


class ReferenceCountingAssertionError(ObjectLostError, AssertionError):
    """An object was deleted while there was still a reference to it."""

    def __str__(self) -> str:
        return (
            self._base_str()
            + "\n\n"
            + (
                "The object has already been deleted by the reference counting "
                "protocol. This should not happen."
            )
        )


class ObjectFreedError(ObjectLostError):
    """An object was manually freed by the application."""

    def __str__(self) -> str:
        return (
            self._base_str()
            + "\n\n"
            + (
                "The object was manually freed using the internal `free` call. "
                "Please ensure that `free` is only called once the object is no "
                "longer needed."
            )
        )


class OwnerDiedError(ObjectLostError):
    """The owner of the object died while there was still a reference to the object."""

    def __str__(self) -> str:
        log_loc = "`/tmp/ray/session_latest/logs`"
        owner_location = None
        if self.owner_address:
            # As in Ray, an address that can't be read leaves the default text.
            owner = _read_owner_address(self.owner_address)
            if owner is not None:
                ip_addr, port, worker_id, node_id = owner
                owner_location = (
                    f"Owner worker ID: {worker_id}, "
                    f"owner node ID: {node_id}, "
                    f"owner address: {ip_addr}:{port}."
                )
                log_loc = f"`/tmp/ray/session_latest/logs/*{worker_id}*` at IP address {ip_addr}"

        return (
            self._base_str()
            + "\n\n"
            + (
                "The object's owner has exited. This is the Python "
                "worker that first created the ObjectRef via `.remote()` or "
                "`ray.put()`. "
                f"Check cluster logs ({log_loc}) for more "
                "information about the Python worker failure."
                + (f"\n\n{owner_location}" if owner_location else "")
            )
        )


class ObjectReconstructionFailedError(ObjectLostError):
    """The object can't be reconstructed; ``reason`` names the ``ErrorType`` saying why."""

    # Keyed by the name of Ray's ErrorType value (Ray keys them by the enum's number).
    REASON_MESSAGES: ClassVar[dict[str, str]] = {
        "OBJECT_UNRECONSTRUCTABLE_MAX_ATTEMPTS_EXCEEDED": (
            "The object cannot be reconstructed because the maximum number of "
            "task retries has been exceeded. "
            "Consider increasing the number of retries using `@ray.remote(max_retries=N)`."
        ),
        "OBJECT_UNRECONSTRUCTABLE_LINEAGE_EVICTED": (
            "The object cannot be reconstructed because its lineage has been "
            "evicted to reduce memory pressure. "
            "To prevent this error, set the environment variable "
            "RAY_max_lineage_bytes=<bytes> (default 1GB) during `ray start`."
        ),
        "OBJECT_UNRECONSTRUCTABLE_PUT": (
            "The object cannot be reconstructed because it was created by "
            "ray.put(), which has no task lineage. "
            "To prevent this error, return the value from a task instead."
        ),
        "OBJECT_UNRECONSTRUCTABLE_RETRIES_DISABLED": (
            "The object cannot be reconstructed because the task was created "
            "with max_retries=0. "
            "Consider enabling retries using `@ray.remote(max_retries=N)`."
        ),
        "OBJECT_UNRECONSTRUCTABLE_BORROWED": (
            "The object cannot be reconstructed because it crossed an ownership "
            "boundary. Only the owner of an object can trigger reconstruction, "
            "but this worker borrowed the object from another worker."
        ),
        "OBJECT_UNRECONSTRUCTABLE_REF_NOT_FOUND": (
            "The object cannot be reconstructed because its reference was "
            "not found in the reference counter. "
            "Please file an issue at https://github.com/ray-project/ray/issues."
        ),
        "OBJECT_UNRECONSTRUCTABLE_TASK_CANCELLED": (
            "The object cannot be reconstructed because the task that would "
            "produce it was cancelled."
        ),
        "OBJECT_UNRECONSTRUCTABLE_LINEAGE_DISABLED": (
            "The object cannot be reconstructed because lineage reconstruction "
            "is disabled system-wide (object_reconstruction_enabled=False)."
        ),
    }

    def __init__(
        self,
        object_ref_hex: str,
        reason: str | int | None = None,
        reason_message: str | None = None,
        owner_address: Mapping[str, Any] | None = None,
        call_site: str = "",
    ) -> None:
        """Args:
        object_ref_hex: Hex ID of the object.
        reason: The ``ErrorType`` saying why, by name ("OBJECT_UNRECONSTRUCTABLE_PUT", ...)
            or by its protobuf number.
        reason_message: The explanation, by default the one for ``reason``.
        owner_address: As for ``ObjectLostError``.
        call_site: As for ``ObjectLostError``.
        """
        super().__init__(object_ref_hex, owner_address, call_site)
        self.reason = reason
        self.reason_message = reason_message or self.REASON_MESSAGES.get(
            self._reason_name(),
            "Unknown error reason. This should not happen, please file an issue "
            "at https://github.com/ray-project/ray/issues.",
        )

    def _reason_name(self) -> str:
        if isinstance(self.reason, int):
            return _UNRECONSTRUCTABLE_ERROR_TYPE_NAMES.get(self.reason, str(self.reason))
        return self.reason or "UNKNOWN"

    def __str__(self) -> str:
        base = self._base_str()
        if self.reason_message:
            reason_name = self._reason_name() if self.reason else "UNKNOWN"
            return base + f"\n\n[{reason_name}] {self.reason_message}"
        return base


class GetTimeoutError(RayError, TimeoutError):
    """Indicates that a call to the worker timed out."""


class PlasmaObjectNotAvailable(RayError):
    """Called when an object was not available within the given timeout."""


class AsyncioActorExit(RayError):
    """Raised when an asyncio actor intentionally exits via exit_actor()."""


class RuntimeEnvSetupError(RayError):
    """Raised when a runtime environment fails to be set up."""

    def __init__(self, error_message: str | None = None) -> None:
        self.error_message = error_message

    def __str__(self) -> str:
        msgs = ["Failed to set up runtime environment."]
        if self.error_message:
            msgs.append(self.error_message)
        return "\n".join(msgs)


class TaskPlacementGroupRemoved(RayError):
    """Raised when the corresponding placement group was removed."""

    def __str__(self) -> str:
        return "The placement group corresponding to this task has been removed."


class ActorPlacementGroupRemoved(RayError):
    """Raised when the corresponding placement group was removed."""

    def __str__(self) -> str:
        return "The placement group corresponding to this Actor has been removed."


class PendingCallsLimitExceeded(RayError):
    """Raised when the pending actor calls exceed the actor's ``max_pending_calls``."""


class TaskUnschedulableError(RayError):
    """The task can't be scheduled, for example its node-affinity node is dead."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __str__(self) -> str:
        return f"The task is not schedulable: {self.error_message}"


class ActorUnschedulableError(RayError):
    """The actor can't be scheduled, for example its node-affinity node is dead."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __str__(self) -> str:
        return f"The actor is not schedulable: {self.error_message}"


class ObjectRefStreamEndOfStreamError(RayError):
    """Raised by streaming generator tasks when there are no more ObjectRefs to read."""


class StreamingGeneratorReplayInconsistentError(RaySystemError):
    """A streaming generator's retry produced a different number of objects than its first run;
    failing fast keeps consumers from hanging or silently losing data."""


class OufOfBandObjectRefSerializationException(RayError):
    """An ``ObjectRef`` was serialised out of band with cloudpickle (an anti-pattern).

    The "Ouf" typo is Ray's name.
    """


class RayChannelError(RaySystemError):
    """A system error in a compiled-graph channel (``ray.experimental.channel``)."""


class RayChannelTimeoutError(RayChannelError, TimeoutError):
    """Raised when the Compiled Graph channel operation times out."""


class RayCgraphCapacityExceeded(RaySystemError):
    """Raised when the Compiled Graph channel's buffer is at max capacity."""


class RayDirectTransportError(RaySystemError):
    """Raised when there is an error during a Ray direct transport transfer."""


class UnserializableException(RayError):
    """A serialised exception couldn't be unpickled; carries its original string and traceback."""

    def __init__(self, original_stack_trace: str) -> None:
        self._original_stack_trace = original_stack_trace

    def __str__(self) -> str:
        return (
            "Failed to deserialize exception. Refer to https://docs.ray.io/en/latest/ray-core/"
            "objects/serialization.html#custom-serializers-for-exceptions for more information.\n"
            "Original exception:\n"
            f"{self._original_stack_trace}"
        )


class ActorAlreadyExistsError(ValueError, RayError):
    """A named actor already exists; also a ValueError for backward compatibility."""

    def __init__(self, error_message: str) -> None:
        super().__init__(error_message)
        self.error_message = error_message

    def __str__(self) -> str:
        return self.error_message


class ActorHandleNotFoundError(ValueError, RayError):
    """The actor handle to kill doesn't exist (e.g. it is from an earlier session); also a
    ValueError for backward compatibility."""

    def __init__(self, error_message: str) -> None:
        super().__init__(error_message)
        self.error_message = error_message

    def __str__(self) -> str:
        return self.error_message


RAY_EXCEPTION_TYPES = [
    PlasmaObjectNotAvailable,
    RayError,
    RayTaskError,
    WorkerCrashedError,
    RayActorError,
    ObjectStoreFullError,
    ObjectLostError,
    ObjectFetchTimedOutError,
    ReferenceCountingAssertionError,
    ObjectReconstructionFailedError,
    OwnerDiedError,
    GetTimeoutError,
    AsyncioActorExit,
    RuntimeEnvSetupError,
    TaskPlacementGroupRemoved,
    ActorPlacementGroupRemoved,
    PendingCallsLimitExceeded,
    LocalRayletDiedError,
    TaskUnschedulableError,
    ActorDiedError,
    ActorUnschedulableError,
    ActorUnavailableError,
    RayChannelError,
    RayChannelTimeoutError,
    OufOfBandObjectRefSerializationException,
    RayCgraphCapacityExceeded,
    UnserializableException,
    ActorAlreadyExistsError,
    ActorHandleNotFoundError,
    AuthenticationError,
]


# --- simray's own exceptions ---------------------------------------------------------------


class SimrayError(Exception):
    """Base class of the exceptions simray raises where Ray has no equivalent."""


class LivelockError(SimrayError, RayError):
    """The virtual clock stood still while the simulator kept running (a loop that costs no
    virtual time); real Ray would spin or time out in wall time."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DeadlockError(SimrayError, RayError):
    """Nothing can ever run again while the driver waits without a timeout (real Ray hangs)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- building task errors --------------------------------------------------------------------

# Frames of files under this directory are simray's machinery, hidden as Ray hides its own.
_SIMRAY_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# The simulator raises a failed input argument's error from a function of this name; its frame
# is rendered as Ray's so that str() shows "At least one of the input arguments ...".
_DEPENDENCY_FAILED_FUNCTION = "raise_if_dependency_failed"


def _task_frames(stack: traceback.StackSummary) -> traceback.StackSummary:
    """``stack`` without simray's frames, the dependency check shown as Ray's Cython frame."""
    import traceback

    kept = []
    for frame in stack:
        if not os.path.abspath(frame.filename).startswith(_SIMRAY_PACKAGE_DIR):
            kept.append(frame)
        elif frame.name == _DEPENDENCY_FAILED_FUNCTION:
            kept.append(
                traceback.FrameSummary(
                    "python/ray/_raylet.pyx",
                    frame.lineno,
                    f"ray._raylet.{_DEPENDENCY_FAILED_FUNCTION}",
                    lookup_line=False,
                    line="",
                )
            )
    return traceback.StackSummary.from_list(kept)


def _format_task_traceback(exc: BaseException) -> str:
    """``exc``'s traceback as ``traceback.format_exception`` writes it, minus simray's frames."""
    import traceback

    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    pending = [te]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = _task_frames(current.stack)
        group = getattr(current, "exceptions", None) or ()
        linked = (current.__cause__, current.__context__, *group)
        pending.extend(t for t in linked if t is not None)
    text = "".join(te.format())
    if sys.modules.get("ray") is sys.modules.get("simray"):
        # Under `import ray` (simray exec), a stored Ray error's type reads as Ray names it.
        text = text.replace("\nsimray.exceptions.", "\nray.exceptions.")
    if not te.stack and getattr(te, "exceptions", None) is None:
        # Raised before any user frame ran: keep the header line that str() turns into the
        # "ray::f() (pid=..., ip=...)" line, as Ray's worker frame keeps it there.
        only = "".join(te.format_exception_only())
        text = text[: len(text) - len(only)] + "Traceback (most recent call last):\n" + only
    return text


def _make_task_error(
    function_name: str,
    exc: BaseException,
    *,
    pid: int,
    ip: str,
    actor_repr: str | None = None,
    actor_id: str | None = None,
) -> RayTaskError:
    """The error a task that raised ``exc`` stores for its outputs, as Ray's worker builds it.

    A ``RayTaskError`` raised inside the task (e.g. by ``get`` of a failed ref) isn't nested:
    its cause becomes the new error's cause. An unpicklable cause becomes a ``RayError``.
    """
    cause = exc.cause if isinstance(exc, RayTaskError) else exc
    return RayTaskError(
        function_name,
        _format_task_traceback(exc),
        cause,
        proctitle=f"ray::{function_name}",
        pid=pid,
        ip=ip,
        actor_repr=actor_repr,
        actor_id=actor_id,
    )
