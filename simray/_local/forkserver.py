"""The fork server: a single-threaded process that forks workers for one local session.

Started by the driver with `python -m simray._local.forkserver`; it reads its configuration
(a pickle) from stdin, imports the worker code once, then forks one worker per request line. A
fork here is safe (no threads) and cheap (the imports are shared). When stdin closes (the
driver exited or was killed) it kills its workers, removes the session's shared memory segments
and private directory, and exits: nothing of the session outlives the driver. (`shutdown`
kills it instead: its workers die with it, see `_die_with_parent`.)

It starts without `site` (`python -S`) when the driver needs nothing that `site` sets up
beyond its `sys.path` (see `procs.server_command`): `site` costs a large share of start-up.
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


def _die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when its parent (the fork server) dies; if it died
    already (between the fork and here), this process ends now."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:
        os._exit(0)


def main() -> None:
    fd = sys.stdin.fileno()
    size = int.from_bytes(_read_exactly(fd, 8), "little")
    config = pickle.loads(_read_exactly(fd, size))
    sys.path[:] = config["sys_path"]
    if sys.flags.no_site:
        import site  # with -S this only loads the module: give user code `exit` and `quit`

        site.setquit()
        site.sethelper()
    root = config.get("simray_root")
    if root is not None:  # simray is found by an import hook of `site` (an editable install)
        sys.path.append(root)
        import simray  # noqa: F401 - its submodules are found through simray.__path__

        sys.path.remove(root)
    if config["alias"]:
        from simray import _ray_alias

        _ray_alias.install()
    from simray._local import shm, worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    me = os.getpid()
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
                    _die_with_parent(me)
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
        shm.unlink_prefix(config["shm_prefix"])
        shutil.rmtree(config["private_dir"], ignore_errors=True)
        _flush_and_exit()


def _flush_and_exit() -> None:
    """Exit without the interpreter's finalization (nothing here needs it)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


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
