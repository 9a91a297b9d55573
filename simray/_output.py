"""A worker's output line as Ray 2.60's driver prints it (`ray._private.worker.print_worker_logs`):
`(name pid=N) line`, with `, ip=A` when the worker's node is not the driver's, the prefix in cyan
(stdout a tty or not), per-pid colours with RAY_COLOR_PREFIX=1, none with 0, and no prefix at
all with RAY_DISABLE_WORKER_LOG_PREFIX. Shared by the sim and local backends.

The name is the task's (its function's `__name__` or `options(name=)`, "()" removed) or, for
an actor, its class's `__name__`, replaced by `repr(instance)` once `__init__` returned when the
class defines its own `__repr__` (Ray's ":actor_name:" token, written twice by the worker).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

CYAN = "\x1b[36m"
RESET_ALL = "\x1b[0m"
# colorama's MAGENTA, CYAN, GREEN, LIGHTBLACK_EX, LIGHTBLUE_EX, LIGHTMAGENTA_EX (Ray's order).
_PID_COLOURS = ("\x1b[35m", "\x1b[36m", "\x1b[32m", "\x1b[90m", "\x1b[94m", "\x1b[95m")
_INFO = ":info_message:"


def env_bool(key: str, default: bool) -> bool:
    """Ray's `env_bool`: "true" or "1" (any case) is true, anything else set is false."""
    value = os.environ.get(key)
    if value is None:
        return default
    return value.lower() in ("true", "1")


def task_label(name: str) -> str:
    """The name a task's lines carry: Ray writes `task_name.replace("()", "")`."""
    return name.replace("()", "")


def actor_label(instance: Any, cls: type, initialized: bool) -> str:
    """The name an actor's lines carry: its class's name, or after `__init__` the instance's
    repr when the class defines `__repr__` (not object's)."""
    if initialized and instance is not None and cls.__repr__ is not object.__repr__:
        try:
            return repr(instance)
        except Exception:  # noqa: BLE001 - Ray would fail the creation task; keep the class
            return cls.__name__
    return cls.__name__


def prefix(name: str | None, pid: int | str, ip: str | None = None) -> str:
    """The text before a worker's line on the driver, space included ("" when
    RAY_DISABLE_WORKER_LOG_PREFIX is set)."""
    if env_bool("RAY_DISABLE_WORKER_LOG_PREFIX", False):
        return ""
    colour = os.environ.get("RAY_COLOR_PREFIX")
    if colour == "0":
        pre = post = ""
    else:
        if colour == "1":
            try:
                index = int(pid)
            except ValueError:
                index = 0
            pre = _PID_COLOURS[index % len(_PID_COLOURS)]
        else:
            pre = CYAN
        post = RESET_ALL
    who = f"{name} pid=" if name else "pid="
    where = f", ip={ip}" if ip else ""
    return f"{pre}({who}{pid}{where}){post} "


def format_lines(lines: Iterable[str], name: str | None, pid: int | str, ip: str | None) -> str:
    """Whole lines (without their newlines) as the driver prints them, newline-terminated."""
    head = prefix(name, pid, ip)
    out = []
    for line in lines:
        if _INFO in line:
            line = line.split(_INFO, 1)[1]
        out.append(f"{head}{line}\n")
    return "".join(out)
