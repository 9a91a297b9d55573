"""Ray's test-coordination actors (`SignalActor`, `Semaphore`) and `wait_for_condition`.

The same methods and semantics as `ray._common.test_utils` (where Ray 2.60 keeps them; older code
imports them from `ray._private.test_utils`, and under `simray exec` both paths resolve here).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from typing import Any

from simray._api import remote


@remote(num_cpus=0)
class SignalActor:
    """An async actor holding one event: `wait()` blocks callers until `send()`.

    `send(clear=True)` releases the current waiters and re-arms the signal; a `send(clear=True)`
    before anyone waits is lost, as in Ray.
    """

    def __init__(self) -> None:
        self.ready_event = asyncio.Event()
        self.num_waiters = 0

    def send(self, clear: bool = False) -> None:
        self.ready_event.set()
        if clear:
            self.ready_event.clear()

    async def wait(self, should_wait: bool = True) -> None:
        if should_wait:
            self.num_waiters += 1
            await self.ready_event.wait()
            self.num_waiters -= 1

    async def cur_num_waiters(self) -> int:
        return self.num_waiters


@remote(num_cpus=0)
class Semaphore:
    """An async actor wrapping one `asyncio.Semaphore`."""

    def __init__(self, value: int = 1) -> None:
        self._sema = asyncio.Semaphore(value=value)

    async def acquire(self) -> None:
        await self._sema.acquire()

    async def release(self) -> None:
        self._sema.release()

    async def locked(self) -> bool:
        return self._sema.locked()


def wait_for_condition(
    condition_predictor: Callable[..., bool],
    timeout: float = 10,
    retry_interval_ms: float = 100,
    raise_exceptions: bool = False,
    **kwargs: Any,
) -> None:
    """Poll `condition_predictor(**kwargs)` until true (in virtual time on sim), as Ray's."""
    start = time.monotonic()
    last_exception = None
    while time.monotonic() - start <= timeout:
        try:
            if condition_predictor(**kwargs):
                return
        except Exception:
            if raise_exceptions:
                raise
            last_exception = traceback.format_exc()
        time.sleep(retry_interval_ms / 1000.0)
    message = "The condition wasn't met before the timeout expired."
    if last_exception is not None:
        message += f" Last exception: {last_exception}"
    raise RuntimeError(message)


async def async_wait_for_condition(
    condition_predictor: Callable[..., Any],
    timeout: float = 10,
    retry_interval_ms: float = 100,
    **kwargs: Any,
) -> None:
    """Await `condition_predictor(**kwargs)` (a coroutine function or a plain one) until true,
    polling with `asyncio.sleep`, as Ray's; virtual time on sim."""
    import asyncio
    import inspect

    start = time.monotonic()
    last_exception = None
    while time.monotonic() - start <= timeout:
        try:
            if inspect.iscoroutinefunction(condition_predictor):
                if await condition_predictor(**kwargs):
                    return
            elif condition_predictor(**kwargs):
                return
        except Exception as e:
            last_exception = e
        await asyncio.sleep(retry_interval_ms / 1000.0)
    message = "The condition wasn't met before the timeout expired."
    if last_exception is not None:
        message += f" Last exception: {last_exception}"
    raise RuntimeError(message)


def _is_head(node: Any) -> bool:
    return bool(getattr(node, "is_head", getattr(node, "head", False)))


def get_other_nodes(cluster: Any, exclude_head: bool = False) -> list[Any]:
    """The cluster's nodes other than the one the driver is connected to (the head)."""
    return [node for node in cluster.list_all_nodes() if not _is_head(node)]


def get_non_head_nodes(cluster: Any) -> list[Any]:
    """The cluster's worker nodes."""
    return [node for node in cluster.list_all_nodes() if not _is_head(node)]


def run_string_as_driver(
    driver_script: str,
    env: dict[str, str] | None = None,
    encode: str = "utf-8",
    timeout: float | None = 300,
) -> str:
    """Run `driver_script` as a separate driver process (`simray exec`, on the backend named by
    `SIMRAY_BACKEND`) and return its combined output; a non-zero exit raises
    `subprocess.CalledProcessError`, as Ray's."""
    import os
    import subprocess
    import sys
    import tempfile

    fd, path = tempfile.mkstemp(prefix="simray-driver-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding=encode) as f:
            f.write(driver_script)
        command = [sys.executable, "-m", "simray", "exec", path]
        proc = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout
        )
    finally:
        os.unlink(path)
    output = proc.stdout.decode(encode, errors="replace")
    if proc.returncode:
        print(output)
        raise subprocess.CalledProcessError(proc.returncode, command, proc.stdout)
    return output


__all__ = [
    "Semaphore",
    "SignalActor",
    "async_wait_for_condition",
    "get_non_head_nodes",
    "get_other_nodes",
    "run_string_as_driver",
    "wait_for_condition",
]
