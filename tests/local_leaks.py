"""Leak checks for the local backend: no worker process and no shm segment may outlive a session.

Processes are found through /proc: the descendants of a pid, or every process whose environment
carries a tag (for a driver run as a subprocess, whose orphans would lose the parent link).
"""

from __future__ import annotations

import os
import time


def _processes() -> dict[int, int]:
    """pid -> parent pid of every process (zombies included)."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        out[int(name)] = int(fields[1])
    return out


def descendants(pid: int) -> list[int]:
    parents = _processes()
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


def tagged(tag: str) -> list[int]:
    """Processes whose environment holds `SIMRAY_TEST_TAG=tag`."""
    needle = f"SIMRAY_TEST_TAG={tag}".encode()
    found = []
    for pid in _processes():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def shm_segments(driver_pid: int) -> list[str]:
    prefix = f"simray_{driver_pid}_"
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]


def wait_gone(find, timeout: float = 30.0) -> list:  # type: ignore[no-untyped-def]
    """`find()` until it returns nothing (processes take a moment to be reaped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = find()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def session_processes() -> list[int]:
    """This process's descendants that belong to a local session (fork server and workers)."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"simray._local.forkserver" in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def end_session_without_leaks() -> None:
    """Shut down a session a test left running, then check that none of its worker processes
    or shared-memory segments outlived it (the local tests' autouse check)."""
    import simray

    if simray.is_initialized():
        simray.shutdown()
    assert not wait_gone(session_processes), "worker processes outlived the session"
    assert not shm_segments(os.getpid()), "shared-memory segments outlived the session"


def orphan_segments() -> list[str]:
    """simray segments whose driver process is gone (its session should have removed them)."""
    out = []
    for name in os.listdir("/dev/shm"):
        parts = name.split("_")
        if parts[0] == "simray" and len(parts) > 2 and parts[1].isdigit():
            if not os.path.exists(f"/proc/{parts[1]}"):
                out.append(name)
    return out
