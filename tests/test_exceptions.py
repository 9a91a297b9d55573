"""Tests of simray.exceptions: Ray's hierarchy and messages, checked against real Ray when present."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import pickle
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

import simray.exceptions as S
from simray.util import accelerators

MAIN_DIR = Path(__file__).resolve().parent.parent
HEADER = "\x1b[36mray::boom()\x1b[39m (pid=1234, ip=10.0.0.1)"


def boom() -> None:
    raise ValueError("bad value")


def _raised(fn) -> BaseException:
    """The exception ``fn()`` raises, with its traceback."""
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - any exception is the value under test
        return e
    raise AssertionError(f"{fn} did not raise")


def _task_error(fn=boom, **kwargs) -> S.RayTaskError:
    kwargs.setdefault("pid", 1234)
    kwargs.setdefault("ip", "10.0.0.1")
    return S._make_task_error(fn.__name__, _raised(fn), **kwargs)


@pytest.fixture(scope="module")
def ray_exceptions():
    """Real Ray's exceptions module, for the differential checks."""
    return pytest.importorskip(
        "ray.exceptions",
        reason="real Ray isn't importable: no differential check against it",
        exc_type=ImportError,
    )


# --- hierarchy ---------------------------------------------------------------------------------


def test_task_error_as_instance_of_cause_is_both_classes() -> None:
    err = _task_error().as_instanceof_cause()

    assert isinstance(err, ValueError)
    assert isinstance(err, S.RayTaskError)
    assert isinstance(err, S.RayError)
    assert type(err).__name__ == "RayTaskError(ValueError)"
    assert [b.__name__ for b in type(err).__mro__[1:4]] == [
        "RayTaskError",
        "RayError",
        "ValueError",
    ]
    with pytest.raises(ValueError, match="bad value"):
        raise err


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (S.GetTimeoutError, (S.RayError, TimeoutError)),
        (S.ActorAlreadyExistsError, (ValueError, S.RayError)),
        (S.ActorHandleNotFoundError, (ValueError, S.RayError)),
        (S.ReferenceCountingAssertionError, (S.ObjectLostError, AssertionError)),
        (S.RayChannelTimeoutError, (S.RayChannelError, S.RaySystemError, TimeoutError)),
        (S.ActorDiedError, (S.RayActorError,)),
        (S.ActorUnavailableError, (S.RayActorError,)),
        (S.OwnerDiedError, (S.ObjectLostError,)),
        (S.ObjectReconstructionFailedError, (S.ObjectLostError,)),
        (S.StreamingGeneratorReplayInconsistentError, (S.RaySystemError,)),
        (S.DeadlockError, (S.SimrayError, S.RayError)),
    ],
)
def test_subclass_relations(cls: type, bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)


def test_out_of_memory_error_is_not_memory_error() -> None:
    assert not issubclass(S.OutOfMemoryError, MemoryError)


def test_all_names_exist_and_helper_is_private() -> None:
    assert all(hasattr(S, name) for name in S.__all__)
    assert "_make_task_error" not in S.__all__
    assert all(issubclass(cls, S.RayError) for cls in S.RAY_EXCEPTION_TYPES)


# --- as_instanceof_cause -----------------------------------------------------------------------


class CodedError(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def test_as_instanceof_cause_with_custom_init_signature() -> None:
    def coded() -> None:
        raise CodedError(7, "seven")

    task_error = _task_error(coded)
    err = task_error.as_instanceof_cause()

    assert isinstance(err, CodedError)
    assert isinstance(err, S.RayTaskError)
    assert err.cause is task_error.cause
    assert err.args == (task_error.cause,)
    assert err.code == 7  # forwarded to the cause by __getattr__
    assert str(err) == str(task_error)


def test_as_instanceof_cause_keeps_an_error_that_is_already_a_task_error() -> None:
    task_error = S.RayTaskError(
        "f", "Traceback (most recent call last):\nRayError: x", S.RayError()
    )
    assert task_error.as_instanceof_cause() is task_error


class FinalError(Exception):
    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError("FinalError can't be subclassed")


def test_as_instanceof_cause_falls_back_when_cause_cannot_be_subclassed(caplog) -> None:
    def final() -> None:
        raise FinalError("x")

    task_error = _task_error(final)
    with caplog.at_level(logging.WARNING, logger="simray.exceptions"):
        err = task_error.as_instanceof_cause()

    assert err is task_error
    assert "can't be subclassed" in caplog.text
    assert "FinalError can't be subclassed" in caplog.text


def test_as_instanceof_cause_with_exception_group() -> None:
    def group() -> None:
        raise ExceptionGroup("several", [ValueError("a"), KeyError("b")])

    err = _task_error(group).as_instanceof_cause()

    assert isinstance(err, ExceptionGroup)
    assert isinstance(err, S.RayTaskError)
    assert [type(e) for e in err.exceptions] == [ValueError, KeyError]


# --- str() of a task error ---------------------------------------------------------------------


def test_task_error_str_layout() -> None:
    text = str(_task_error())
    lines = text.split("\n")

    assert lines[0] == HEADER
    assert "Traceback (most recent call last)" not in text
    assert any(line.startswith("  File ") and line.endswith(", in boom") for line in lines)
    assert lines[-1] == "ValueError: bad value"


def test_task_error_str_for_an_actor_task() -> None:
    err = _task_error(actor_repr="<Counter>", actor_id="ab" * 16)
    assert str(err).split("\n")[0] == (
        f"\x1b[36mray::boom()\x1b[39m (pid=1234, ip=10.0.0.1, actor_id={'ab' * 16}, repr=<Counter>)"
    )


def test_task_error_attributes() -> None:
    err = _task_error(actor_repr="<A>", actor_id="cd" * 16)

    assert err.function_name == "boom"
    assert err.proctitle == "ray::boom"
    assert (err.pid, err.ip, err.actor_repr, err._actor_id) == (1234, "10.0.0.1", "<A>", "cd" * 16)
    assert isinstance(err.cause, ValueError)
    assert err.traceback_str.startswith("Traceback (most recent call last):\n")
    assert err.args == ("boom", err.traceback_str, err.cause, "ray::boom", 1234, "10.0.0.1")


def test_task_error_str_hides_ray_internal_frames() -> None:
    traceback_str = (
        "Traceback (most recent call last):\n"
        '  File "/site-packages/ray/_private/worker.py", line 10, in main_loop\n'
        "    execute()\n"
        '  File "/app/job.py", line 3, in f\n'
        "    1 / 0\n"
        "ZeroDivisionError: division by zero"
    )
    err = S.RayTaskError("f", traceback_str, ZeroDivisionError(), "ray::f", 5, "1.2.3.4")

    assert str(err) == (
        "\x1b[36mray::f()\x1b[39m (pid=5, ip=1.2.3.4)\n"
        '  File "/app/job.py", line 3, in f\n'
        "    1 / 0\n"
        "ZeroDivisionError: division by zero"
    )


RUNNER = """
def run(fn):
    return fn()


def raise_if_dependency_failed(arg):
    raise arg
"""


@pytest.fixture
def simray_runner(tmp_path, monkeypatch):
    """A module whose frames count as simray's own: its file lies in the simray package dir."""
    path = tmp_path / "runner.py"
    path.write_text(RUNNER)
    spec = importlib.util.spec_from_file_location("simray_test_runner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(S, "_SIMRAY_PACKAGE_DIR", str(tmp_path) + os.sep)
    return module


def test_make_task_error_drops_simray_frames(simray_runner) -> None:
    exc = _raised(lambda: simray_runner.run(boom))
    err = S._make_task_error("boom", exc, pid=1234, ip="10.0.0.1")

    assert "runner.py" not in err.traceback_str
    assert ", in boom" in err.traceback_str
    assert str(err).split("\n")[0] == HEADER


def test_make_task_error_keeps_the_header_when_every_frame_is_simray_s(simray_runner) -> None:
    exc = _raised(lambda: simray_runner.raise_if_dependency_failed(KeyError("k")))
    exc.__traceback__ = exc.__traceback__.tb_next  # only the runner's frame is left
    err = S._make_task_error("f", exc, pid=1, ip="1.1.1.1")

    assert err.traceback_str.startswith("Traceback (most recent call last):\n")
    assert str(err).startswith("\x1b[36mray::f()\x1b[39m (pid=1, ip=1.1.1.1)")


def test_failed_dependency_shows_ray_s_note(simray_runner) -> None:
    upstream = _task_error()
    exc = _raised(
        lambda: simray_runner.run(lambda: simray_runner.raise_if_dependency_failed(upstream))
    )
    exc.__traceback__ = exc.__traceback__.tb_next  # drop this test's own frame
    err = S._make_task_error("downstream", exc, pid=99, ip="10.0.0.2")

    assert isinstance(err.cause, ValueError)  # not a RayTaskError nested in a RayTaskError
    lines = str(err).split("\n")
    assert lines[0] == "\x1b[36mray::downstream()\x1b[39m (pid=99, ip=10.0.0.2)"
    assert "runner.py" not in err.traceback_str
    assert "_raylet" not in str(err)
    note = lines.index("  At least one of the input arguments for this task could not be computed:")
    assert ", in <lambda>" in lines[note - 3]  # the task body that took the argument
    assert lines[note + 1] == "simray.exceptions.RayTaskError: " + HEADER
    assert lines[-1] == "ValueError: bad value"


def test_make_task_error_does_not_nest_task_errors() -> None:
    inner = _task_error()

    def get_failed_ref() -> None:
        raise inner.as_instanceof_cause()

    err = _task_error(get_failed_ref)
    assert err.cause is inner.cause


class LockHoldingError(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def test_make_task_error_with_unpicklable_cause(caplog) -> None:
    def hold() -> None:
        raise LockHoldingError

    with caplog.at_level(logging.ERROR, logger="simray.exceptions"):
        err = _task_error(hold)

    assert type(err.cause) is S.RayError
    message = str(err.cause)
    assert message.startswith(
        f"Exception {__name__}.LockHoldingError isn't serializable: "
        "cannot pickle '_thread.lock' object.\nOriginal exception details:\nTraceback"
    )
    assert message.endswith("LockHoldingError: holds a lock\n")
    assert "isn't serializable" in caplog.text
    assert err.as_instanceof_cause() is err  # a RayTaskError already is a RayError


def test_local_exception_class_stays_the_cause() -> None:
    pytest.importorskip(
        "cloudpickle", reason="stdlib pickle can't pickle local classes", exc_type=ImportError
    )

    class LocalError(Exception):
        pass

    def local() -> None:
        raise LocalError("here")

    err = _task_error(local)
    assert type(err.cause) is LocalError
    assert isinstance(err.as_instanceof_cause(), LocalError)


def test_task_error_pickles_round_trip() -> None:
    err = _task_error()
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert isinstance(copy.cause, ValueError)


# --- other messages ----------------------------------------------------------------------------


def test_task_cancelled_error_str() -> None:
    assert str(S.TaskCancelledError()) == ""
    assert str(S.TaskCancelledError("c2668a65bda616c1ffffffffffffffffffffffff01000000")) == (
        "Task: c2668a65bda616c1ffffffffffffffffffffffff01000000 was cancelled. "
    )
    assert str(S.TaskCancelledError("abc", "Because.")) == "Task: abc was cancelled. Because."
    assert str(S.TaskCancelledError(error_message="Because.")) == "Because."


ACTOR_ID = "814f12c74fc0ab7ce00658d901000000"


def test_actor_died_error_killed_by_ray_kill() -> None:
    err = S.ActorDiedError(
        class_name="Dies",
        actor_id=ACTOR_ID,
        pid=4242,
        namespace="ns-1",
        ip="10.0.0.3",
        reason="it was killed by `ray.kill`",
    )

    assert str(err) == (
        "The actor died unexpectedly before finishing this task.\n"
        "\tclass_name: Dies\n"
        f"\tactor_id: {ACTOR_ID}\n"
        "\tpid: 4242\n"
        "\tnamespace: ns-1\n"
        "\tip: 10.0.0.3\n"
        "The actor is dead because it was killed by `ray.kill`."
    )
    assert err.actor_id == ACTOR_ID
    assert not err.actor_init_failed
    assert not err.preempted


def test_actor_died_error_optional_lines() -> None:
    err = S.ActorDiedError(
        class_name="A",
        actor_id=ACTOR_ID,
        name="named",
        error_message="The actor is dead because all references to the actor were removed.",
        never_started=True,
        preempted=True,
    )

    assert str(err).split("\n")[1:] == [
        "\tclass_name: A",
        f"\tactor_id: {ACTOR_ID}",
        "\tname: named",
        "The actor is dead because all references to the actor were removed.",
        "The actor never ran - it was cancelled before it started running.",
    ]
    assert err.preempted


def test_actor_died_error_from_init_failure() -> None:
    task_error = _task_error(actor_repr="<Dies>", actor_id=ACTOR_ID)
    err = S.ActorDiedError.from_task_error(task_error)

    assert str(err) == (
        "The actor died because of an error raised in its creation task, " + str(task_error)
    )
    assert err.actor_init_failed
    assert err.actor_id == ACTOR_ID


def test_actor_died_error_defaults_and_misuse() -> None:
    assert str(S.ActorDiedError()) == "The actor died unexpectedly before finishing this task."
    assert str(S.RayActorError()) == "The actor experienced an error before finishing this task."
    with pytest.raises(TypeError, match="not both"):
        S.ActorDiedError(_task_error(), class_name="A")
    with pytest.raises(ValueError, match="reason or error_message"):
        S.ActorDiedError(class_name="A", reason="x", error_message="y")


def test_actor_unavailable_error() -> None:
    err = S.ActorUnavailableError("The actor is temporarily unavailable", bytes.fromhex(ACTOR_ID))
    assert err.actor_id == ACTOR_ID
    assert str(err) == (
        f"The actor {ACTOR_ID} is unavailable: The actor is temporarily unavailable. "
        "The task may or may not have been executed on the actor."
    )


def test_object_lost_errors() -> None:
    lost = S.ObjectLostError("00ff", None, "a.py:1 | b.py:2")
    assert str(lost).startswith("Failed to retrieve object 00ff. The ObjectRef was created at: ")
    assert lost.call_site == "a.py:1\n  b.py:2"
    owner = {"ip_address": "10.0.0.4", "port": 5000, "worker_id": "aa", "node_id": b"\x0b"}
    owner_died = str(S.OwnerDiedError("00ff", owner, ""))
    assert "Owner worker ID: aa, owner node ID: 0b, owner address: 10.0.0.4:5000." in owner_died
    assert "(`/tmp/ray/session_latest/logs/*aa*` at IP address 10.0.0.4)" in owner_died
    by_name = S.ObjectReconstructionFailedError("00ff", reason="OBJECT_UNRECONSTRUCTABLE_PUT")
    by_number = S.ObjectReconstructionFailedError("00ff", reason=27)
    assert str(by_name) == str(by_number)
    assert "[OBJECT_UNRECONSTRUCTABLE_PUT] The object cannot be reconstructed" in str(by_name)


def test_to_bytes_round_trip_and_fallbacks() -> None:
    err = S.TaskUnschedulableError("node is dead")
    copy = S.RayError.from_bytes(err.to_bytes())
    assert type(copy) is S.TaskUnschedulableError
    assert str(copy) == "The task is not schedulable: node is dead"

    java = S._RayException("JAVA", b"", "java.lang.Error: x")
    assert str(S.RayError.from_ray_exception(java)) == (
        "An exception raised from JAVA:\njava.lang.Error: x"
    )
    broken = S._RayException("PYTHON", b"not a pickle", "formatted")
    unserializable = S.RayError.from_ray_exception(broken)
    assert type(unserializable) is S.UnserializableException
    assert str(unserializable).endswith("Original exception:\nformatted")


def test_deadlock_error() -> None:
    err = S.DeadlockError("driver waits on ObjectRef(ab) held by nobody")
    assert isinstance(err, S.SimrayError)
    assert isinstance(err, S.RayError)
    assert str(err) == err.message == "driver waits on ObjectRef(ab) held by nobody"


def test_importing_simray_exceptions_does_not_import_ray() -> None:
    subprocess.run(
        [sys.executable, "-c", "import simray.exceptions, sys; assert 'ray' not in sys.modules"],
        cwd=MAIN_DIR,
        check=True,
    )


# --- against real Ray --------------------------------------------------------------------------


def _ray_exception_classes(ray_exceptions) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(ray_exceptions).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == ray_exceptions.__name__
    }


def test_every_ray_exception_class_is_ported_with_the_same_mro(ray_exceptions) -> None:
    classes = _ray_exception_classes(ray_exceptions)
    assert {cls.__name__ for cls in ray_exceptions.RAY_EXCEPTION_TYPES} <= set(classes)

    for name, ray_cls in classes.items():
        ours = getattr(S, name, None)
        assert ours is not None, f"simray.exceptions lacks {name}"
        assert [b.__name__ for b in ours.__mro__] == [b.__name__ for b in ray_cls.__mro__], name


def test_ray_exception_types_list_matches(ray_exceptions) -> None:
    ray_names = [cls.__name__ for cls in ray_exceptions.RAY_EXCEPTION_TYPES]
    assert [cls.__name__ for cls in S.RAY_EXCEPTION_TYPES] == ray_names


PLAIN_CONSTRUCTIONS = [
    ("RayError", ("boom",)),
    ("TaskCancelledError", ()),
    ("TaskCancelledError", ("abc", "why")),
    ("LocalRayletDiedError", ()),
    ("WorkerCrashedError", ()),
    ("RayActorError", ()),
    ("RayActorError", ("ab" * 16, "custom")),
    ("RaySystemError", ("client", "tb")),
    ("ObjectStoreFullError", ("full",)),
    ("OutOfDiskError", ("disk",)),
    ("OutOfMemoryError", ("Task was killed due to the node running low on memory.",)),
    ("NodeDiedError", ("Task failed because the node it was running on is dead.",)),
    ("ObjectLostError", ("00ff", None, "a.py:1 | b.py:2")),
    ("ObjectFetchTimedOutError", ("00ff", None, "")),
    ("ReferenceCountingAssertionError", ("00ff", None, "")),
    ("ObjectFreedError", ("00ff", None, "")),
    ("OwnerDiedError", ("00ff", None, "")),
    ("RpcError", ("rpc failed", 14)),
    ("GetTimeoutError", ("Get timed out: some object(s) not ready.",)),
    ("RuntimeEnvSetupError", ()),
    ("RuntimeEnvSetupError", ("pip failed",)),
    ("TaskPlacementGroupRemoved", ()),
    ("ActorPlacementGroupRemoved", ()),
    ("PendingCallsLimitExceeded", ("too many",)),
    ("TaskUnschedulableError", ("node dead",)),
    ("ActorUnschedulableError", ("node dead",)),
    ("StreamingGeneratorReplayInconsistentError", ("different count",)),
    ("UnserializableException", ("trace",)),
    ("ActorAlreadyExistsError", ("The name A (namespace=ns) is already taken.",)),
    ("ActorHandleNotFoundError", ("not found",)),
    ("AuthenticationError", ("Token mismatch",)),
    ("ActorUnavailableError", ("gone for now", None)),
]


@pytest.mark.parametrize(("name", "args"), PLAIN_CONSTRUCTIONS)
def test_message_matches_ray(ray_exceptions, name: str, args: tuple) -> None:
    theirs = getattr(ray_exceptions, name)(*args)
    ours = getattr(S, name)(*args)
    assert str(ours) == str(theirs)
    assert ours.args == theirs.args


def test_task_error_str_matches_ray(ray_exceptions) -> None:
    err = _task_error(actor_repr="<A>", actor_id="ef" * 16)
    theirs = ray_exceptions.RayTaskError(
        "boom", err.traceback_str, err.cause, "ray::boom", 1234, "10.0.0.1", "<A>", "ef" * 16
    )
    assert str(err) == str(theirs)
    assert str(err.as_instanceof_cause()) == str(theirs.as_instanceof_cause())
    ours_mro = [b.__name__ for b in type(err.as_instanceof_cause()).__mro__]
    assert ours_mro == [b.__name__ for b in type(theirs.as_instanceof_cause()).__mro__]


def test_dependency_failure_str_matches_ray(ray_exceptions) -> None:
    traceback_str = (
        "Traceback (most recent call last):\n"
        '  File "python/ray/_raylet.pyx", line 1834, in ray._raylet.raise_if_dependency_failed\n'
        "ray.exceptions.RayTaskError: \x1b[36mray::f()\x1b[39m (pid=1, ip=1.1.1.1)\n"
        '  File "/app/job.py", line 3, in f\n'
        "ZeroDivisionError: division by zero"
    )
    args = ("g", traceback_str, ZeroDivisionError(), "ray::g", 2, "2.2.2.2")
    assert str(S.RayTaskError(*args)) == str(ray_exceptions.RayTaskError(*args))


def test_actor_died_error_matches_ray(ray_exceptions) -> None:
    from ray.core.generated.common_pb2 import ActorDiedErrorContext

    context = ActorDiedErrorContext(
        class_name="Dies",
        actor_id=bytes.fromhex(ACTOR_ID),
        pid=4242,
        name="named",
        ray_namespace="ns-1",
        node_ip_address="10.0.0.3",
        error_message="The actor is dead because it was killed by `ray.kill`.",
        never_started=True,
    )
    ours = S.ActorDiedError(
        class_name="Dies",
        actor_id=ACTOR_ID,
        pid=4242,
        name="named",
        namespace="ns-1",
        ip="10.0.0.3",
        reason="it was killed by `ray.kill`",
        never_started=True,
    )
    theirs = ray_exceptions.ActorDiedError(context)
    assert str(ours) == str(theirs)
    assert ours.actor_id == theirs.actor_id

    task_error = _task_error(actor_repr="<Dies>", actor_id=ACTOR_ID)
    their_task_error = ray_exceptions.RayTaskError(
        "boom", task_error.traceback_str, task_error.cause, "ray::boom", 1234, "10.0.0.1"
    )
    their_task_error.actor_repr, their_task_error._actor_id = "<Dies>", ACTOR_ID
    theirs = ray_exceptions.ActorDiedError(their_task_error)
    ours = S.ActorDiedError(task_error)
    assert str(ours) == str(theirs)
    assert (ours.actor_id, ours.actor_init_failed) == (theirs.actor_id, theirs.actor_init_failed)


def test_object_errors_with_owner_and_reason_match_ray(ray_exceptions) -> None:
    from ray.core.generated.common_pb2 import Address, ErrorType

    worker_id, node_id = bytes(range(28)), bytes(range(1, 29))
    address = Address(ip_address="10.0.0.4", port=5000, worker_id=worker_id, node_id=node_id)
    ours = S.OwnerDiedError(
        "00ff",
        {"ip_address": "10.0.0.4", "port": 5000, "worker_id": worker_id, "node_id": node_id},
        "",
    )
    theirs = ray_exceptions.OwnerDiedError("00ff", address.SerializeToString(), "")
    assert str(ours) == str(theirs)

    for reason in S.ObjectReconstructionFailedError.REASON_MESSAGES:
        theirs = ray_exceptions.ObjectReconstructionFailedError(
            "00ff", reason=ErrorType.Value(reason)
        )
        assert str(S.ObjectReconstructionFailedError("00ff", reason=reason)) == str(theirs)
        number = ErrorType.Value(reason)
        assert str(S.ObjectReconstructionFailedError("00ff", reason=number)) == str(theirs)
    unknown = ray_exceptions.ObjectReconstructionFailedError("00ff")
    assert str(S.ObjectReconstructionFailedError("00ff")) == str(unknown)


# --- simray.util.accelerators ------------------------------------------------------------------


def test_accelerator_constants_match_ray() -> None:
    ray_accelerators = pytest.importorskip(
        "ray.util.accelerators.accelerators",
        reason="real Ray isn't importable: no differential check against it",
        exc_type=ImportError,
    )
    theirs = {
        name: value
        for name, value in vars(ray_accelerators).items()
        if not name.startswith("_") and isinstance(value, str)
    }
    ours = {name: getattr(accelerators, name) for name in accelerators.__all__}
    assert ours == theirs


def test_deprecated_a100_alias_warns() -> None:
    with pytest.warns(DeprecationWarning, match="NVIDIA_TESLA_A100 is deprecated"):
        assert accelerators.NVIDIA_TESLA_A100 == accelerators.NVIDIA_A100 == "A100"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="NVIDIA_TESLA_A1000"):
            _ = accelerators.NVIDIA_TESLA_A1000
