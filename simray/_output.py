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
import re
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


# -- Ray's log deduplication (RAY_DEDUP_LOGS) ---------------------------------------------------
_NUMBERS = re.compile(r"(\d+|0x[0-9a-fA-F]+)")
GREEN = "\x1b[32m"
_DEDUP_NOTE = (
    " (Ray deduplicates logs by default. Set RAY_DEDUP_LOGS=0 to disable log deduplication, or see "
    "https://docs.ray.io/en/master/ray-observability/user-guides/configure-logging.html"
    "#log-deduplication for more options.)"
)
_noted = False  # Ray adds the note once per driver process


def _dedup_key(line: str) -> str:
    """A line without its words that hold numbers (they tend to differ between workers)."""
    return " ".join(word for word in line.split() if not _NUMBERS.search(word))


class _Pattern:
    __slots__ = ("since", "count", "line", "source", "sources")

    def __init__(self, since: float, line: str, source: Source):
        self.since = since  # when this pattern was first seen (or last summarised)
        self.count = 0  # occurrences not printed yet
        self.line = line  # the latest occurrence
        self.source = source  # whose it was
        self.sources = {source[1:]}  # (pid, ip) of every worker that printed it


# (name, pid, ip) of a batch of lines: one worker's, printed with its prefix (`format_lines`).
Source = tuple[str, "int | str", "str | None"]


class Deduplicator:
    """Ray's driver-side deduplication of worker output, per stream: a line whose words (those
    without digits) another worker printed within the window is held back and counted; when a
    later batch arrives after the window, the count comes out as `line [repeated Nx across
    cluster]` (or the line itself when it was held back once). What is held back when the
    driver ends is never printed, as on Ray. `now` is the session's clock."""

    def __init__(self, now: Any):
        self.now = now
        self.enabled = env_bool("RAY_DEDUP_LOGS", True)
        try:
            self.window = int(os.environ.get("RAY_DEDUP_LOGS_AGG_WINDOW_S", "5"))
        except ValueError:
            self.window = 5
        allow = os.environ.get("RAY_DEDUP_LOGS_ALLOW_REGEX", "__ray_testing_never_deduplicate__")
        skip = os.environ.get("RAY_DEDUP_LOGS_SKIP_REGEX")
        self.allow = re.compile(allow) if allow else None
        self.skip = re.compile(skip) if skip else None
        self.recent: dict[str, _Pattern] = {}

    def batches(self, source: Source, lines: list[str]) -> list[tuple[Source, list[str]]]:
        """What to print for `lines` from `source`: (source, lines) pairs, in order."""
        if not self.enabled:
            return [(source, lines)]
        now = self.now()
        shown: list[str] = []
        out: list[tuple[Source, list[str]]] = [(source, shown)]
        where = source[1:]
        for line in lines:
            if self.allow is not None and self.allow.search(line):
                shown.append(line)
                continue
            if self.skip is not None and self.skip.search(line):
                continue
            key = _dedup_key(line)
            if not key:
                shown.append(line)  # nothing left to compare: always shown
                continue
            pattern = self.recent.get(key)
            if pattern is None:
                self.recent[key] = _Pattern(now, line, source)
                shown.append(line)
                continue
            pattern.sources.add(where)
            if len(pattern.sources) > 1:
                pattern.count += 1
                pattern.line, pattern.source = line, source
            else:
                shown.append(line)  # the same worker again: printed as it comes
        while self.recent:
            key, pattern = next(iter(self.recent.items()))
            if now - pattern.since < self.window:
                break
            del self.recent[key]
            if pattern.count > 1:
                out.append((pattern.source, [self._summary(pattern)]))
                pattern.since, pattern.count = now, 0
                self.recent[key] = pattern  # aggregating goes on, from now
            elif pattern.count > 0:
                out.append((pattern.source, [pattern.line]))
        return out

    @staticmethod
    def _summary(pattern: _Pattern) -> str:
        global _noted
        note = "" if _noted else _DEDUP_NOTE
        _noted = True
        return f"{pattern.line}{GREEN} [repeated {pattern.count}x across cluster]{note}{RESET_ALL}"


# -- the autoscaler's event lines (`print_worker_logs` for pid "autoscaler") ---------------------
YELLOW = "\x1b[33m"
AUTOSCALER_TIP = (
    "Tip: use `ray status` to view detailed cluster status. To disable these messages, set "
    "RAY_SCHEDULER_EVENTS=0."
)
# Ray reads RAY_SCHEDULER_EVENTS once, when `ray` is imported (`ray_constants.AUTOSCALER_EVENTS`,
# `env_integer`: an int, a value int() refuses counts as unset): simray reads it when simray is
# imported and again when `import ray` resolves to simray (`_ray_alias`), since `simray exec`
# imports simray before the script can set the variable.
scheduler_events = True
_tipped = False  # Ray prints the tip once per driver process (`autoscaler_log_fyi_printed`)


def read_scheduler_events() -> None:
    """Take RAY_SCHEDULER_EVENTS from the environment now, as Ray does at `import ray`."""
    global scheduler_events
    try:
        scheduler_events = bool(int(os.environ.get("RAY_SCHEDULER_EVENTS", "1")))
    except ValueError:
        scheduler_events = True


read_scheduler_events()


def time_string(elapsed: float) -> str:
    """Ray's `time_string`: whole seconds as `15s`, `1m5s`, `1h2m3s` (truncated)."""
    hours = minutes = 0
    while elapsed > 3600:
        hours += 1
        elapsed -= 3600
    while elapsed > 60:
        minutes += 1
        elapsed -= 60
    return f"{hours}h" * bool(hours) + f"{minutes}m" * bool(minutes) + f"{int(elapsed)}s"


def autoscaler_lines(messages: Iterable[str], elapsed: float) -> str:
    """One batch of autoscaler event messages as the driver prints them on stdout, `elapsed`
    seconds into the job: `(autoscaler +Ns) message`, the tip first if this process has not
    shown it yet, "Error:"/"Warning:" lines in yellow and others in cyan; nothing at all when
    RAY_SCHEDULER_EVENTS was 0 when read."""
    global _tipped
    if not scheduler_events:
        return ""
    bare = env_bool("RAY_DISABLE_WORKER_LOG_PREFIX", False)
    plain = os.environ.get("RAY_COLOR_PREFIX") == "0"
    head = f"(autoscaler +{time_string(elapsed)})"
    out = []
    for message in messages:
        if not _tipped:
            _tipped = True
            lines = [AUTOSCALER_TIP, message]
        else:
            lines = [message]
        for line in lines:
            if bare:
                out.append(f"{line}\n")
            elif plain:
                out.append(f"{head} {line}\n")
            else:
                colour = YELLOW if "Error:" in line or "Warning:" in line else CYAN
                out.append(f"{colour}{head}{RESET_ALL} {line}\n")
    return "".join(out)
