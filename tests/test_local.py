"""The local backend on real processes: reuse, failures, cancel, nodes, files, shm, sockets, leaks.

Every test ends with a leak check: no process of the session (fork server or worker) and no
shared-memory segment of it outlives `shutdown`.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import simray
from simray import exceptions as exc
from simray.cluster import Cluster
from tests.conftest import ROOT
from tests.local_leaks import (
    end_session_without_leaks,
    session_processes,
    shm_segments,
    tagged,
    wait_gone,
)

pytestmark = pytest.mark.xdist_group("local")


@pytest.fixture
def local():
    simray.init(backend="local", num_cpus=2)
    yield simray
    simray.shutdown()


@pytest.fixture(autouse=True)
def _no_leaks():
    yield
    end_session_without_leaks()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(path: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) or not open(path, encoding="utf-8").read():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return open(path, encoding="utf-8").read()


# -- processes ----------------------------------------------------------------------------------
def test_tasks_run_in_reused_worker_processes(local):
    @simray.remote
    def pid():
        return os.getpid()

    pids = simray.get([pid.remote() for _ in range(30)])
    assert os.getpid() not in pids
    assert 1 <= len(set(pids)) < 30  # workers are reused, not one process per task


def test_nested_get_in_a_worker_goes_through_the_driver_and_frees_the_cpu(local):
    @simray.remote
    def leaf(i):
        return i

    @simray.remote
    def tree(depth):
        if depth == 0:
            return simray.get(leaf.remote(1))
        return sum(simray.get([tree.remote(depth - 1), tree.remote(depth - 1)]))

    assert simray.get(tree.remote(3), timeout=60) == 8  # 15 blocked parents on 2 CPUs


def test_worker_output_reaches_the_driver_prefixed(tmp_path):
    script = tmp_path / "out.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, subprocess, sys, ray
            ray.init(num_cpus=1)
            @ray.remote
            def shout():
                print("to stdout")
                print("to stderr", file=sys.stderr)
                os.write(1, b"to fd 1, as C code writes\\n")
                subprocess.run(["sh", "-c", "echo from a child process >&2"], check=True)
                return os.getpid()
            print("pid", ray.get(shout.remote()))
            ray.shutdown()
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "simray", "exec", "--backend", "local", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    pid = proc.stdout.strip().splitlines()[-1].split()[1]
    head = f"\x1b[36m(shout pid={pid})\x1b[0m "  # Ray's prefix: cyan, tty or not
    assert f"{head}to stdout\n" in proc.stdout
    assert f"{head}to stderr\n" in proc.stderr
    assert f"{head}to fd 1, as C code writes\n" in proc.stdout
    assert f"{head}from a child process\n" in proc.stderr


def test_a_tasks_output_is_printed_before_the_caller_has_its_result(capsys, monkeypatch):
    """A worker sends what a task printed (its Python streams, fds 1 and 2) before the task's
    result, so the driver has printed it when `get` returns and a shutdown right after loses
    none of it. Output without a final newline is what only the task's end sends; it came after
    the result (and was lost when the driver then shut down) under load. No deduplication: the
    calls may run in different worker processes, whose same lines Ray's driver would hold back."""
    monkeypatch.setenv("RAY_DEDUP_LOGS", "0")
    simray.init(backend="local", num_cpus=1)
    try:

        @simray.remote
        def shout(i):
            print(f"print {i}", end="")
            print(f"stderr {i}", end="", file=sys.stderr)
            os.write(1, f"fd one {i}".encode())
            os.write(2, f"fd two {i}".encode())
            return os.getpid()

        for i in range(10):
            pid = simray.get(shout.remote(i))
            out, err = capsys.readouterr()
            head = f"(shout pid={pid})\x1b[0m "
            for line in (f"print {i}", f"fd one {i}"):
                assert f"{head}{line}\n" in out, (i, out)
            for line in (f"stderr {i}", f"fd two {i}"):
                assert f"{head}{line}\n" in err, (i, err)
    finally:
        simray.shutdown()


def test_handles_and_refs_in_a_closure_reconnect_in_the_worker(local):
    """As in Ray, a function or class whose closure holds an actor handle or a ref is exported
    with it: the handle pickles to its actor id and calls the same actor from the worker."""

    @simray.remote
    class Counter:
        def __init__(self):
            self.n = 0

        def add(self):
            self.n += 1
            return self.n

    counter = Counter.remote()
    base = simray.put(100)

    @simray.remote
    def bump():
        return simray.get(counter.add.remote()) + simray.get(base)

    @simray.remote
    class Caller:
        def bump(self):
            return simray.get(counter.add.remote())

    @simray.remote
    def nested():
        @simray.remote
        def inner():
            return simray.get(counter.add.remote())

        return simray.get(inner.remote())

    assert simray.get(bump.remote()) == 101
    assert simray.get(Caller.remote().bump.remote()) == 2
    assert simray.get(nested.remote()) == 3
    assert simray.get(counter.add.remote()) == 4


def test_concurrency_groups_run_in_their_own_threads_and_unknown_groups_are_refused(local):
    import threading

    @simray.remote(concurrency_groups={"io": 2})
    class Mixed:
        @simray.method(concurrency_group="io")
        def io(self):
            return threading.current_thread().name

        def plain(self):
            return threading.current_thread().name

    actor = Mixed.remote()
    io_threads = set(simray.get([actor.io.remote() for _ in range(6)]))
    plain_threads = set(simray.get([actor.plain.remote() for _ in range(6)]))
    assert 1 <= len(io_threads) <= 2
    assert len(plain_threads) == 1
    assert not io_threads & plain_threads  # each group has threads of its own
    with pytest.raises(ValueError, match="is not a concurrency group of Mixed"):
        actor.plain.options(concurrency_group="nope").remote()


def test_get_of_a_non_ref_has_rays_text_in_the_driver_and_in_a_worker(local):
    text = (
        "Invalid type of object refs, <class 'tuple'>, is given. 'object_refs' must either be "
        "an ObjectRef or a list of ObjectRefs. "  # Ray's trailing space
    )

    @simray.remote
    def in_worker():
        try:
            simray.get((1,))
        except ValueError as e:
            return str(e)

    with pytest.raises(ValueError) as raised:
        simray.get((1,))
    assert str(raised.value) == text
    assert simray.get(in_worker.remote()) == text


# -- failures -----------------------------------------------------------------------------------
def test_os_exit_in_a_task_is_retried_then_worker_crashed_error(local, tmp_path):
    @simray.remote(max_retries=2)
    def die(path):
        with open(path, "a") as f:
            f.write("x")
        os._exit(1)

    path = str(tmp_path / "attempts")
    with pytest.raises(exc.WorkerCrashedError):
        simray.get(die.remote(path), timeout=60)
    assert open(path).read() == "xxx"  # the first attempt and two retries


def test_sigkill_of_a_worker_by_pid_retries_the_task(local, tmp_path):
    @simray.remote(max_retries=1)
    def victim(path):
        first = not os.path.exists(path)
        with open(path, "a") as f:
            f.write(f"{os.getpid()}\n")
        if first:
            time.sleep(60)
        return "second attempt"

    path = str(tmp_path / "pids")
    ref = victim.remote(path)
    pid = int(_wait_for(path).split()[0])
    os.kill(pid, signal.SIGKILL)
    assert simray.get(ref, timeout=60) == "second attempt"
    assert not wait_gone(lambda: [pid] if _alive(pid) else [])


def test_sigkill_without_retries_is_worker_crashed_error(local, tmp_path):
    @simray.remote(max_retries=0)
    def victim(path):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)

    path = str(tmp_path / "pid")
    ref = victim.remote(path)
    os.kill(int(_wait_for(path)), signal.SIGKILL)
    with pytest.raises(exc.WorkerCrashedError):
        simray.get(ref, timeout=60)


def test_actor_process_death_restarts_or_kills_the_actor(local):
    @simray.remote(max_restarts=1)
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

        def pid(self):
            return os.getpid()

    a = Counter.remote()
    assert simray.get([a.inc.remote(), a.inc.remote()]) == [1, 2]
    first = simray.get(a.pid.remote())
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:  # calls racing the death may fail; the restarted actor serves the next ones
        try:
            value = simray.get(a.inc.remote(), timeout=60)
            break
        except (exc.ActorDiedError, exc.ActorUnavailableError):
            assert time.monotonic() < deadline
    assert value == 1  # a fresh instance in a new process
    second = simray.get(a.pid.remote())
    assert second != first
    os.kill(second, signal.SIGKILL)  # no restart left
    assert not wait_gone(lambda: [second] if _alive(second) else [])

    def served() -> bool:
        try:
            simray.get(a.inc.remote(), timeout=60)
        except exc.ActorDiedError:
            return False
        return True

    assert not wait_gone(lambda: [1] if served() else [], timeout=30)


def test_kill_ends_the_actor_process(local):
    @simray.remote
    class A:
        def pid(self):
            return os.getpid()

    a = A.remote()
    pid = simray.get(a.pid.remote())
    simray.kill(a)
    with pytest.raises(exc.ActorDiedError):
        simray.get(a.pid.remote(), timeout=60)
    assert not wait_gone(lambda: [pid] if _alive(pid) else [])


def test_removing_a_node_kills_its_workers_with_node_died_error(tmp_path):
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    node = cluster.add_node(num_cpus=1, resources={"side": 1})
    simray.init(address=cluster.address, backend="local")

    @simray.remote(resources={"side": 1}, max_retries=0)
    def pinned(path):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)

    path = str(tmp_path / "pid")
    ref = pinned.remote(path)
    pid = int(_wait_for(path))
    cluster.remove_node(node)
    with pytest.raises(exc.NodeDiedError):
        simray.get(ref, timeout=60)
    assert not wait_gone(lambda: [pid] if _alive(pid) else [])
    assert "side" not in simray.cluster_resources()
    cluster.add_node(num_cpus=1, resources={"side": 1})  # a node added while running
    assert simray.get(_ok.remote(), timeout=60)
    simray.shutdown()
    cluster.shutdown()


@simray.remote(resources={"side": 1})
def _ok():
    return True


# -- cancel ---------------------------------------------------------------------------------------
def test_cancel_raises_keyboard_interrupt_in_the_running_task(local, tmp_path):
    @simray.remote
    def loop(started, seen):
        open(started, "w").write("1")
        try:
            while True:
                time.sleep(0.01)
        except KeyboardInterrupt:
            open(seen, "w").write("KeyboardInterrupt")
            raise

    started, seen = str(tmp_path / "started"), str(tmp_path / "seen")
    ref = loop.remote(started, seen)
    _wait_for(started)
    simray.cancel(ref)
    with pytest.raises(exc.TaskCancelledError):
        simray.get(ref, timeout=60)
    assert _wait_for(seen) == "KeyboardInterrupt"


def test_force_cancel_kills_the_worker(local, tmp_path):
    @simray.remote
    def stuck(path):
        open(path, "w").write(str(os.getpid()))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a KeyboardInterrupt would not help
        time.sleep(60)

    path = str(tmp_path / "pid")
    ref = stuck.remote(path)
    pid = int(_wait_for(path))
    simray.cancel(ref, force=True)
    with pytest.raises(exc.TaskCancelledError):
        simray.get(ref, timeout=60)
    assert not wait_gone(lambda: [pid] if _alive(pid) else [])


def test_a_force_cancelled_worker_is_never_given_more_work(local, tmp_path):
    """The killed worker is not handed back as idle: a task submitted before the driver hears
    of its death runs on another worker, not sent to the dying one (which lost it, or raced the
    I/O thread closing its connection). The lock keeps the death unheard, so no timing."""
    from simray import _session

    @simray.remote
    def stuck(path):
        open(path, "w").write(str(os.getpid()))
        time.sleep(60)

    @simray.remote(max_retries=0)
    def pid():
        return os.getpid()

    path = str(tmp_path / "pid")
    ref = stuck.remote(path)
    killed = int(_wait_for(path))
    with _session.backend().lock:  # the I/O thread cannot report the death meanwhile
        simray.cancel(ref, force=True)
        after = pid.remote()
    with pytest.raises(exc.TaskCancelledError):
        simray.get(ref, timeout=60)
    assert simray.get(after, timeout=60) != killed


# -- files, values ---------------------------------------------------------------------------------
def test_filelock_between_worker_processes_is_the_real_one(local, tmp_path):
    @simray.remote
    def add(path, lock_path, times):
        import filelock

        for _ in range(times):
            with filelock.FileLock(lock_path):
                value = int(open(path).read())
                time.sleep(0.005)
                open(path, "w").write(str(value + 1))
        return os.getpid()

    path, lock_path = str(tmp_path / "n"), str(tmp_path / "n.lock")
    open(path, "w").write("0")
    pids = simray.get([add.remote(path, lock_path, 10) for _ in range(4)], timeout=120)
    assert open(path).read() == "40"
    assert len(set(pids)) >= 2  # really several processes


def test_large_out_of_band_put_is_a_read_only_zero_copy_view_in_shm(local):
    """What NumPy arrays do under pickle protocol 5 (out-of-band buffers), with a plain class:
    the reader's buffer is a read-only view of the session's shared-memory segment."""
    import pickle

    class Frame:
        def __init__(self, buf):
            self.buf = buf

        def __reduce_ex__(self, protocol):
            return Frame, (pickle.PickleBuffer(self.buf),)

    @simray.remote
    def inspect(frame):
        import mmap

        view = frame.buf
        return type(view).__name__, view.readonly, isinstance(view.obj, mmap.mmap), len(view)

    data = bytearray(os.urandom(8 << 20))
    ref = simray.put(Frame(data))
    data[:4] = b"XXXX"  # put copied the value: later writes do not reach the store
    assert simray.get(inspect.remote(ref), timeout=60) == ("memoryview", True, True, 8 << 20)
    back = simray.get(ref)
    assert back.buf.readonly
    assert bytes(back.buf[:4]) != b"XXXX"
    assert shm_segments(os.getpid())  # the value went through a segment of this session


def _mapping_of(arr) -> str:
    """The /proc/self/maps line holding a NumPy array's data: which memory backs it."""
    addr = arr.ctypes.data
    with open("/proc/self/maps", encoding="utf-8") as f:
        for line in f:
            lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
            if lo <= addr < hi:
                return line
    return ""


def test_numpy_put_gives_a_zero_copy_read_only_view_in_shm(local):
    """As in Ray's object store: a reader of a put NumPy array (a task, or the driver) gets a
    read-only array backed by shared memory, not a copy through the pipe; so does a large
    array passed directly as an argument."""
    import numpy as np

    @simray.remote
    def inspect(arr):
        import tests.test_local as here

        return arr.flags.writeable, here._mapping_of(arr), float(arr[-1])

    arr = np.arange(1 << 20, dtype=np.float64)  # 8 MB
    ref = simray.put(arr)
    arr[-1] = -1.0  # put copied the value: later writes do not reach the store
    writeable, mapping, last = simray.get(inspect.remote(ref), timeout=60)
    assert (writeable, last) == (False, float((1 << 20) - 1))
    assert "/dev/shm/simray_" in mapping, mapping
    writeable, mapping, _ = simray.get(inspect.remote(arr), timeout=60)
    assert not writeable
    assert "/dev/shm/simray_" in mapping, mapping
    first, second = simray.get(ref), simray.get(ref)
    assert not first.flags.writeable
    assert np.shares_memory(first, second)  # no copy per get
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1.0


def test_put_reuses_freed_segments_but_never_one_still_viewed(local):
    """As Ray's store reuses its memory, a freed put segment is written again by a later put;
    never while a value in the driver still views it, and never once a worker was sent it."""
    import numpy as np

    @simray.remote
    class Keeper:
        def keep(self, arr):
            self.arr = arr

        def total(self):
            return float(self.arr.sum())

    ones = np.ones(1 << 18)  # 2 MB
    for _ in range(5):  # get(put(x)) in a loop: one segment, written again each time
        assert simray.get(simray.put(ones)).sum() == ones.sum()
    assert len(shm_segments(os.getpid())) == 1
    kept = simray.get(simray.put(ones))  # the ref dies, the value lives on
    twos = simray.get(simray.put(ones * 2))
    assert (kept.sum(), twos.sum()) == (ones.sum(), 2 * ones.sum())
    keeper = Keeper.remote()
    ref = simray.put(ones * 3)
    simray.get(keeper.keep.remote(ref))
    del ref
    for k in range(4, 8):
        assert simray.get(simray.put(ones * k)).sum() == k * ones.sum()
    assert simray.get(keeper.total.remote()) == 3 * ones.sum()
    assert (kept.sum(), twos.sum()) == (ones.sum(), 2 * ones.sum())


def test_large_bytes_round_trip_through_a_task(local):
    @simray.remote
    def echo(b):
        return b + b"!"

    blob = os.urandom(3 << 20)
    assert simray.get(echo.remote(blob), timeout=60) == blob + b"!"


# -- sockets and the private directory ----------------------------------------------------------
def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _inet_inodes() -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        try:
            lines = open(f"/proc/net/{table}").read().splitlines()[1:]
        except OSError:
            continue
        inodes.update(line.split()[9] for line in lines if len(line.split()) > 9)
    return inodes


def test_a_local_session_opens_no_tcp_or_udp_socket(local):
    @simray.remote
    class A:
        def pid(self):
            return os.getpid()

    @simray.remote
    def pid():
        return os.getpid()

    a = A.remote()  # held: an actor whose handles are all gone ends, as on Ray
    pids = {os.getpid(), *session_processes(), simray.get(a.pid.remote())}
    pids.update(simray.get([pid.remote() for _ in range(4)]))
    sockets = set().union(*(_socket_inodes(p) for p in pids))
    assert sockets, "the processes talk over sockets: there should be some to inspect"
    assert not sockets & _inet_inodes()


def test_processes_meet_in_a_private_directory_with_an_authkey(local):
    from multiprocessing.connection import AuthenticationError, Client

    procs = simray._session.active().procs
    assert stat.S_IMODE(os.stat(procs.dir).st_mode) == 0o700
    with pytest.raises(AuthenticationError):
        Client(procs.address, family="AF_UNIX", authkey=b"wrong key")
    assert simray.get(simray.put(7)) == 7  # the session is unharmed


# -- leaks at exit ----------------------------------------------------------------------------------
_DRIVER = """
import os, sys, time
import simray
simray.init(backend="local", num_cpus=2)
ref = simray.put(b"x" * (4 << 20))
@simray.remote
def size(b):
    return len(b)
assert simray.get(size.remote(ref)) == 4 << 20
print(os.getpid(), flush=True)
if sys.argv[1] == "hang":
    time.sleep(600)
"""


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_nothing_outlives_a_driver_that_exits_or_is_killed(tmp_path, how):
    tag = uuid.uuid4().hex
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), "hang" if how == "sigkill" else "exit"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT, "SIMRAY_TEST_TAG": tag},
    )
    assert proc.stdout is not None
    driver = int(proc.stdout.readline())
    if how == "sigkill":
        assert len(tagged(tag)) >= 3  # the driver, its fork server and workers
        os.kill(driver, signal.SIGKILL)
    proc.wait(60)
    assert not wait_gone(lambda: tagged(tag), timeout=15)
    assert not wait_gone(lambda: shm_segments(driver), timeout=15)


def test_generator_values_arrive_while_the_task_runs(local):
    """A streaming task's first value is readable while the task still waits for the driver."""

    @simray.remote
    class Gate:
        def __init__(self):
            self.open = False

        def release(self):
            self.open = True

        def is_open(self):
            return self.open

    @simray.remote
    def produce(gate):
        yield "first"
        while not simray.get(gate.is_open.remote()):
            time.sleep(0.05)
        yield "second"

    gate = Gate.remote()
    gen = produce.remote(gate)
    assert simray.get(next(gen)) == "first"  # would hang if values came only at the end
    ready, _ = simray.wait([gen], timeout=0.2)
    assert ready == []
    gate.release.remote()
    assert [simray.get(r) for r in gen] == ["second"]
    assert gen.is_finished()


def test_generator_large_values_and_dynamic(local):
    @simray.remote(num_returns="dynamic")
    def chunks(n):
        for i in range(n):
            yield bytes([i]) * (2 << 20)  # through shared memory

    refs = list(simray.get(chunks.remote(3)))
    assert [simray.get(r)[:1] for r in refs] == [b"\x00", b"\x01", b"\x02"]


def test_generator_errors_are_clear(local):
    @simray.remote(num_returns="streaming")
    def not_a_generator():
        return 1

    @simray.remote
    def numbers():
        yield 1

    @simray.remote
    def nested():
        return numbers.remote()

    gen = not_a_generator.remote()
    with pytest.raises(TypeError, match="not a generator"):
        simray.get(next(gen))
    with pytest.raises(NotImplementedError, match="only when called from the driver"):
        simray.get(nested.remote())
