"""Schedule exploration: the seed picks among the orders real Ray could produce.

At one virtual instant several things can be due at once: two tasks finish, two callers call
one actor, a result and a timeout arrive together. On a real cluster their order depends on
thread scheduling and the network, and any order can happen. With exploration on, the kernel
draws that order from the session's RNG instead of keeping the order they were scheduled in;
optional jitter adds a bounded random delay (drawn from the same RNG) to a task's start after it
is placed, to an argument's arrival at a waiting task, and to an actor call's delivery.

What stays fixed, because Ray guarantees it: causality (nothing runs before what caused it),
the order of one caller's calls to one actor (Ray's per-caller sequence numbers), resource
accounting, and virtual time never going back. So every explored schedule is one that real
Ray could produce; it only makes the rare ones as likely as the common one.

Seed 0, or `explore=False` / `SIMRAY_EXPLORE=0`, keeps today's order exactly (traces recorded
before exploration existed do not change). Any other seed explores unless turned off; jitter is
off unless `jitter=SECONDS` / `SIMRAY_JITTER` is given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any


def _env_flag(name: str) -> bool | None:
    text = os.environ.get(name)
    if text is None or text == "":
        return None
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 0 or 1 (or true/false), got {text!r}")


def _env_seconds(name: str) -> float | None:
    text = os.environ.get(name)
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of virtual seconds >= 0, got {text!r}") from None


def configure(backend: Any, seed: int, explore: bool | None, jitter: float | None) -> float:
    """Switch exploration on the backend's kernel per seed and settings; return the jitter."""
    if explore is None:
        explore = _env_flag("SIMRAY_EXPLORE")
    if explore is None:
        explore = seed != 0
    if jitter is None:
        jitter = _env_seconds("SIMRAY_JITTER") or 0.0
    if not isinstance(jitter, int | float) or math.isnan(jitter) or jitter < 0:
        raise ValueError(f"jitter must be a number of virtual seconds >= 0, got {jitter!r}")
    backend.kernel.explore = backend.rng if explore else None
    return float(jitter) if explore else 0.0


def start_later(backend: Any, task: Any, node: Any) -> None:
    """Start a placed task after a random delay (worker start-up, lease grant): its resources
    are held meanwhile, as Ray's lease holds them."""
    kernel = backend.kernel
    attempt = task.attempt

    def start(_: Any) -> None:
        if task.state == "running" and task.attempt == attempt and task.node is node:
            kernel.spawn(task, backend.task_runner)

    kernel.call_at(kernel.now + backend.rng.uniform(0, backend.jitter), start)


def transfer_later(backend: Any) -> Callable[[Any, Any], None]:
    """A dependency callback that delivers the resolved argument after a random delay."""
    kernel = backend.kernel

    def resolved(task: Any, ref: Any) -> None:
        delay = backend.rng.uniform(0, backend.jitter)
        kernel.call_at(kernel.now + delay, lambda _: backend.dep_resolved(task, ref))

    return resolved


def deliver_later(backend: Any, call: Any, arrived: Callable[[Any, Any], None]) -> None:
    """Hold an actor call back for a random delay; it stays in its mailbox place, so one
    caller's calls still run in the order they were made."""
    kernel = backend.kernel
    call.deps_left += 1
    kernel.call_at(
        kernel.now + backend.rng.uniform(0, backend.jitter), lambda _: arrived(call, None)
    )
