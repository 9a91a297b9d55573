"""The worker processes of a local session and the driver's one I/O thread.

The driver starts a fork server (`forkserver`) and listens on a Unix socket in a private
directory (mode 0700) that only processes knowing the session's random authkey may use. Each
worker connects once, says hello, and from then on every message between it and the driver
travels over that connection; the I/O thread receives them and hands them to the backend.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Listener, wait
from typing import Any

from simray._output import Deduplicator, format_lines


class WorkerProc:
    """One worker process as the driver sees it."""

    __slots__ = ("ticket", "pid", "conn", "state", "task", "actor", "fns", "waits", "node", "lent")

    def __init__(self, ticket: int):
        self.ticket = ticket
        self.pid = 0
        self.conn: Any = None
        self.state = "starting"  # starting, idle, busy, actor, dead
        self.task: Any = None  # the normal task it runs
        self.actor: Any = None  # the actor it is
        self.fns: set[int] = set()  # functions it has been sent
        self.waits: dict[int, Any] = {}  # its pending get/wait requests
        self.node: Any = None
        self.lent: dict[Any, int] = {}  # entries it was sent refs to -> how many refs

    def send(self, msg: Any) -> None:
        """Send under the backend's lock; a worker killed or dead gets nothing (its death is
        reported by the I/O thread, which closes its connection under the same lock)."""
        if self.conn is not None and self.state != "dead" and self.state != "killed":
            try:
                self.conn.send(msg)
            except OSError:
                pass  # it died; the I/O thread reports the death


class Procs:
    """Starts workers through the fork server and runs the I/O thread."""

    def __init__(
        self,
        config: dict[str, Any],
        on_hello: Callable[[WorkerProc], None],
        on_message: Callable[[WorkerProc, Any], None],
        on_death: Callable[[WorkerProc], None],
        lock: Any,
    ):
        self.dir = tempfile.mkdtemp(prefix="simray-")  # mode 0700
        self.authkey = os.urandom(32)
        self.address = os.path.join(self.dir, "driver.sock")
        self.listener = Listener(self.address, family="AF_UNIX", authkey=self.authkey)
        self.on_hello = on_hello
        self.on_message = on_message
        self.on_death = on_death
        self.lock = lock
        self.log_to_driver = True  # False: workers' output is dropped (init(log_to_driver=False))
        self.dedup = (Deduplicator(time.time), Deduplicator(time.time))  # stdout's, stderr's
        self.starting: dict[int, WorkerProc] = {}
        self.all: dict[int, WorkerProc] = {}  # by ticket
        self._tickets = 0
        self._closing = False
        self._new: list[Any] = []
        self._soon: list[Callable[[], None]] = []
        self._wake_r, self._wake_w = os.pipe()
        config = dict(config, address=self.address, authkey=self.authkey, private_dir=self.dir)
        command, root = server_command()
        config["simray_root"] = root
        self.server = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            cwd=config["cwd"],
            env=_server_env(config["sys_path"] + ([root] if root else [])),
            close_fds=True,
        )
        assert self.server.stdin is not None
        blob = pickle.dumps(config)
        self.server.stdin.write(len(blob).to_bytes(8, "little") + blob)
        self.server.stdin.flush()
        self._accepter = threading.Thread(target=self._accept, name="simray-accept", daemon=True)
        self._accepter.start()
        self._io = threading.Thread(target=self._loop, name="simray-io", daemon=True)
        self._io.start()

    def spawn(self) -> WorkerProc:
        """Ask the fork server for a new worker (it says hello when it is up)."""
        self._tickets += 1
        proc = WorkerProc(self._tickets)
        self.starting[proc.ticket] = proc
        self.all[proc.ticket] = proc
        try:
            assert self.server.stdin is not None
            self.server.stdin.write(f"{proc.ticket}\n".encode())
            self.server.stdin.flush()
        except OSError:
            pass
        return proc

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run `fn()` on the I/O thread, under the lock."""
        self._soon.append(fn)
        os.write(self._wake_w, b"x")

    def kill(self, proc: WorkerProc) -> None:
        if proc.pid:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- threads ---------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closing:
            try:
                conn = self.listener.accept()
                hello = conn.recv()
            except Exception:  # noqa: BLE001 - a failed handshake or the listener closing
                if self._closing:
                    return
                continue
            _, ticket, pid = hello
            proc = self.starting.pop(int(ticket), None)
            if proc is None:
                conn.close()
                continue
            proc.pid = pid
            proc.conn = conn
            self._new.append(proc)
            os.write(self._wake_w, b"x")

    def _loop(self) -> None:
        conns: dict[Any, WorkerProc] = {}
        wake = self._wake_r
        while not self._closing:
            try:
                ready = wait([*conns, wake])
            except OSError:
                continue
            for item in ready:
                if item == wake:
                    os.read(wake, 4096)
                    while self._new:
                        proc = self._new.pop()
                        with self.lock:
                            if self._closing:
                                return
                            conns[proc.conn] = proc
                            self.on_hello(proc)
                    while self._soon:
                        fn = self._soon.pop(0)
                        with self.lock:
                            if self._closing:
                                return
                            fn()
                    continue
                proc = conns[item]
                try:
                    while True:
                        msg = item.recv()
                        if msg[0] == "out":
                            if self.log_to_driver:
                                _write(self.dedup, proc, *msg[1:])
                        else:
                            with self.lock:
                                if self._closing:
                                    return
                                self.on_message(proc, msg)
                        if not item.poll():
                            break
                except (EOFError, OSError):
                    del conns[item]
                    with self.lock:  # never closed while a sender under the lock uses it
                        item.close()
                        if self._closing:
                            return
                        self.on_death(proc)

    def close(self) -> None:
        """Stop everything: the fork server kills the workers and removes shm and the dir."""
        with self.lock:
            self._closing = True
        try:  # wake the accept thread so it sees the session end
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.address)
        except OSError:
            pass
        self._accepter.join(5)
        try:
            self.listener.close()
        except OSError:
            pass
        for proc in self.all.values():
            self.kill(proc)
        # The fork server is killed, not asked to clean up (which waits for it to be scheduled
        # on a busy machine): workers not yet connected die with it (PDEATHSIG); the backend
        # removes the shared memory, and the private directory goes here.
        self.server.kill()
        try:
            assert self.server.stdin is not None
            self.server.stdin.close()
        except OSError:
            pass
        os.write(self._wake_w, b"x")
        self.server.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        self._io.join(5)
        os.close(self._wake_r)
        os.close(self._wake_w)


def _write(dedup: Any, proc: WorkerProc, fd: int, label: str, lines: str) -> None:
    """A worker's whole lines, on the driver's stream, prefixed as Ray's driver prints them (no
    `ip=` on the head node, the driver's) and deduplicated across workers as Ray does."""
    stream = sys.stdout if fd == 1 else sys.stderr
    node = proc.node
    ip = node.ip if node is not None and not node.is_head else None
    batches = dedup[fd - 1].batches((label, proc.pid, ip), lines.split("\n"))
    try:
        stream.write("".join(format_lines(batch, *source) for source, batch in batches if batch))
        stream.flush()
    except Exception:  # noqa: BLE001 - the driver's stream may be closed at exit
        pass


_STANDARD_FINDERS = {"BuiltinImporter", "FrozenImporter", "PathFinder", "DistutilsMetaFinder"}


def server_command() -> tuple[list[str], str | None]:
    """How to start the fork server, and the directory holding simray if only an import hook
    finds it. `-S` (no `site`) unless the driver imports through hooks that `site` installed
    from `.pth` files (editable installs of other packages): then workers need them too."""
    root = None
    for finder in sys.meta_path:
        name = getattr(finder, "__name__", None) or type(finder).__name__
        module = getattr(finder, "__module__", "") or ""
        if name in _STANDARD_FINDERS:
            continue
        if module.startswith("__editable___simray_"):
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            root = os.path.dirname(root)
            continue
        return [sys.executable, "-m", "simray._local.forkserver"], None
    if root is not None and any(os.path.abspath(p or ".") == root for p in sys.path):
        root = None
    return [sys.executable, "-S", "-m", "simray._local.forkserver"], root


def _server_env(sys_path: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys_path if p)
    return env
