"""`filelock.FileLock` and `SoftFileLock` inside a sim session: mutual exclusion in virtual time.

All tasks of a sim session share one process and one thread, where real file locks cannot tell
them apart, so while a session is up the lock methods consult a table of holders instead: a
waiting task blocks (the process does not), hand-over is FIFO, `timeout` and `blocking` behave
as the filelock package documents, and a deadlock explanation can name who holds which lock.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import Any

from simray._sim.kernel import Kernel, Unit

_TIMED_OUT = object()
_PATCHED = ("acquire", "release", "__enter__", "__exit__", "is_locked", "lock_counter")


class LockState:
    """Who holds one lock path, through which lock object, how often, and who waits."""

    __slots__ = ("path", "holder", "owner", "count", "waiters")

    def __init__(self, path: str):
        self.path = path
        self.holder: Unit | None = None
        self.owner: Any = None
        self.count = 0
        self.waiters: deque[tuple[Unit, Any]] = deque()


class SimFileLocks:
    """The lock table of one session, and the patch that routes filelock through it."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.table: dict[str, LockState] = {}
        self._saved: dict[str, Any] = {}
        self._cls: Any = None
        self._finder: _PatchOnImport | None = None

    def install(self) -> None:
        """Patch filelock now if it is imported, else when the program first imports it (most
        programs never do, and importing it costs more than the rest of a session's start)."""
        module = sys.modules.get("filelock")
        if module is not None:
            self._patch(module)
        else:
            self._finder = _PatchOnImport(self)
            sys.meta_path.insert(0, self._finder)

    def _patch(self, filelock: Any) -> None:
        cls = filelock.BaseFileLock
        self._cls = cls
        self._timeout_error = filelock.Timeout
        self._proxy = filelock.AcquireReturnProxy
        soft = getattr(filelock, "SoftFileLock", None)
        locks = self

        def acquire(
            lock: Any,
            timeout: float | None = None,
            poll_interval: float | None = None,
            *,
            poll_intervall: float | None = None,
            blocking: bool | None = None,
            **_: Any,
        ) -> Any:
            return locks.acquire(
                lock, timeout, blocking, soft is not None and isinstance(lock, soft)
            )

        def release(lock: Any, force: bool = False) -> None:
            locks.release(lock, force)

        def enter(lock: Any) -> Any:
            locks.acquire(lock, None, None, soft is not None and isinstance(lock, soft))
            return lock

        def exit_(lock: Any, *exc: Any) -> None:
            locks.release(lock, False)

        patches = {
            "acquire": acquire,
            "release": release,
            "__enter__": enter,
            "__exit__": exit_,
            "is_locked": property(lambda lock: locks.held_by_current(lock) > 0),
            "lock_counter": property(lambda lock: locks.held_by_current(lock)),
        }
        for name in _PATCHED:
            if name in cls.__dict__:
                self._saved[name] = cls.__dict__[name]
            setattr(cls, name, patches[name])

    def uninstall(self) -> None:
        if self._finder is not None:
            if self._finder in sys.meta_path:
                sys.meta_path.remove(self._finder)
            self._finder = None
        cls = self._cls
        if cls is None:
            return
        for name in _PATCHED:
            if name in self._saved:
                setattr(cls, name, self._saved[name])
            else:
                delattr(cls, name)
        self._cls = None

    def _state(self, lock: Any) -> LockState:
        path = os.path.abspath(os.fspath(lock.lock_file))
        state = self.table.get(path)
        if state is None:
            state = self.table[path] = LockState(path)
        return state

    def held_by_current(self, lock: Any) -> int:
        state = self._state(lock)
        if state.holder is self.kernel.current and state.owner is lock:
            return state.count
        return 0

    def acquire(self, lock: Any, timeout: float | None, blocking: bool | None, soft: bool) -> Any:
        kernel = self.kernel
        me = kernel.current
        state = self._state(lock)
        if state.holder is None:
            self._take(state, me, lock, soft)
        elif state.holder is me and state.owner is lock:
            state.count += 1
        else:
            if timeout is None:
                timeout = getattr(lock, "timeout", -1)
            if blocking is None:
                blocking = getattr(lock, "blocking", True)
            if not blocking or timeout == 0:
                raise self._timeout_error(lock.lock_file)
            waiter = (me, lock)
            state.waiters.append(waiter)
            if timeout > 0:
                kernel.wake_at(kernel.now + timeout, me, _TIMED_OUT)
            if kernel.block(("lock", state)) is _TIMED_OUT:
                state.waiters.remove(waiter)
                raise self._timeout_error(lock.lock_file)
        return self._proxy(lock=lock)

    def _take(self, state: LockState, unit: Unit | None, lock: Any, soft: bool) -> None:
        state.holder, state.owner, state.count = unit, lock, 1
        # The lock file exists while held, as with the real package.
        with open(state.path, "a"):
            pass

    def release(self, lock: Any, force: bool) -> None:
        state = self._state(lock)
        if state.holder is not self.kernel.current or state.owner is not lock:
            return
        state.count = 0 if force else state.count - 1
        if state.count == 0:
            self._hand_over(state)

    def _hand_over(self, state: LockState) -> None:
        if state.waiters:
            unit, lock = state.waiters.popleft()
            state.holder, state.owner, state.count = unit, lock, 1
            self.kernel.wake(unit)
        else:
            state.holder, state.owner = None, None

    def release_all(self, unit: Unit) -> None:
        """Free what a finished or killed unit still holds (its process would have closed them)."""
        self.release_all_of(lambda holder: holder is unit)

    def release_all_of(self, holds: Any) -> None:
        """Free every lock whose holding unit satisfies `holds(unit)`."""
        for state in self.table.values():
            if state.holder is not None and holds(state.holder):
                state.count = 0
                self._hand_over(state)


class _PatchOnImport:
    """A meta path finder that lets `import filelock` load as usual, then patches it."""

    def __init__(self, locks: SimFileLocks):
        self.locks = locks

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "filelock":
            return None
        sys.meta_path.remove(self)  # once: the other finders locate the real package
        self.locks._finder = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            spec.loader = _ThenPatch(spec.loader, self.locks)
        return spec


class _ThenPatch:
    """Runs the real loader of filelock, then routes its locks through the session's table."""

    def __init__(self, loader: Any, locks: SimFileLocks):
        self.loader = loader
        self.locks = locks

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        self.locks._patch(module)

    def __getattr__(self, name: str) -> Any:  # the rest of the loader protocol (is_package, ...)
        return getattr(self.loader, name)
