"""The fork server: a single-threaded process that forks workers for one local session.

Started by the driver with `python -m simray._local.forkserver`; it reads its configuration
(a pickle) from stdin, imports the worker code once, then forks one worker per request line. A
fork here is safe (no threads) and cheap (the imports are shared). When stdin closes (the
driver shut down, exited or was killed) it kills its workers, removes the session's shared
memory segments and private directory, and exits: nothing of the session outlives the driver.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import shutil
import signal
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent (the fork server) dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def main() -> None:
    fd = sys.stdin.fileno()
    size = int.from_bytes(_read_exactly(fd, 8), "little")
    config = pickle.loads(_read_exactly(fd, size))
    sys.path[:] = config["sys_path"]
    if config["alias"]:
        from simray import _ray_alias

        _ray_alias.install()
    from simray._local import serialization, worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    pending = b""
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 1.0)
            _reap(children)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                pid = os.fork()
                if pid == 0:
                    os.close(fd)
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                    _die_with_parent()
                    code = 1
                    try:
                        worker.main(config, line.decode())
                        code = 0
                    finally:
                        os._exit(code)
                children.add(pid)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        serialization.unlink_prefix(config["shm_prefix"])
        shutil.rmtree(config["private_dir"], ignore_errors=True)


def _read_exactly(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise SystemExit(0)  # the driver went away before configuring us
        data += chunk
    return data


def _reap(children: set[int]) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


if __name__ == "__main__":
    main()
