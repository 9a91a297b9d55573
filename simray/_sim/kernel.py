"""The discrete-event kernel: one virtual clock, one event heap, cooperatively scheduled units.

Every unit of execution (the driver, each running task) is a greenlet. A unit that blocks
switches to the hub, which runs callbacks in time order and resumes units. Nothing here knows
about Ray: the backend builds tasks, objects and resources on top of `call_soon`, `call_at`,
`block` and `spawn`.

Workers are reused as Ray reuses worker processes: a finished unit parks its greenlet in a pool
and the next task runs on it, since creating greenlets costs more than switching them.
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
from bisect import insort
from collections import deque
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from greenlet import GreenletExit, getcurrent, greenlet

from simray._sim.livelock import LivelockInterrupt, as_error

Callback = Callable[[Any], Any]
_modules = sys.modules
_heappush = heapq.heappush
_heapreplace = heapq.heapreplace
_get_ident = threading.get_ident


class WorkerExit(BaseException):
    """Raised by `os._exit` inside a simulated worker: the worker process dies, not simray."""


class Unit:
    """A schedulable unit: the driver or a running task. Subclasses add what they need."""

    __slots__ = ("glet", "blocked_on", "wake_token", "env", "interrupt", "loop")

    def __init__(self) -> None:
        self.glet: Any = None
        self.blocked_on: Any = None  # what it waits for, for deadlock explanations
        self.wake_token = 0  # bumps on every wake, so a stale timer cannot wake it twice
        self.env: Any = None  # its CUDA_VISIBLE_DEVICES (the process env is shared by all units)
        self.interrupt = False  # an exception is due when it next runs (cancel)
        self.loop: Any = None  # its running asyncio loop while it is switched out


class Kernel:
    """Virtual clock, event heap and hub. Time is a float of virtual seconds from 0."""

    def __init__(self, on_stall: Callable[[], BaseException | None]):
        self.now = 0.0
        # Timers run in time order; those of one instant in the order they were added, or
        # under exploration in the order of their `seq`, drawn from its RNG (`_shuffled`;
        # without exploration `seq` is 0). They are kept as a heap of the distinct instants
        # that have any (`_times`: plain floats, which compare faster than (when, seq, ...)
        # tuples, whose first items are compared for equality and then for order) and each
        # instant's timer (`_timers`): an entry (seq, fn, arg), or, when several share the
        # instant, (0, _TIED, a deque of their entries in order). A sleep's is (seq, None, unit).
        self._times: list[float] = []
        self._timers: dict[float, tuple[int, Any, Any]] = {}
        self._ready: deque[tuple[Callback, Any]] = deque()
        self._seq = 0  # timers given a seq under exploration (kept in its low bits: unique)
        # Schedule exploration: with an RNG here, events due at one virtual instant run in an
        # order drawn from it (ties of timers, and which ready callback runs next); None keeps
        # the order they were scheduled in. See `simray.sim` "schedule exploration".
        self._explore: Any = None
        self._idle: list[Any] = []
        self.on_stall = on_stall
        self.current: Unit | None = None
        # Called when a unit resumes with another env than the last one, or with an interrupt due.
        self.on_switch_in: Callable[[Unit], None] = lambda unit: None
        self.env_now: Any = None
        self.handoff: tuple[Unit, Callable[[Unit], None]] | None = None
        # Called when the hub is quiescent at a virtual instant, before it moves to the next timer
        # (invariant checks in tests); None in normal runs.
        self._after_event: Callable[[], None] | None = None
        self.hooked = False  # exploration or `after_event` on: `sleep` leaves timers to the hub
        # Whether asyncio's loop module may be imported (`vtime` watches for its import): no
        # unit can run an asyncio loop before, so `sleep` need not look for one.
        self.asyncio_imported = True
        self.closed = False
        # `sleep` is `time.sleep` while the session is up: other threads sleep for real.
        self.thread = _get_ident()
        self.real_sleep: Callable[[float], None] = time.sleep
        # Bound once: a bound method made per event would be an allocation per timer and wake.
        self._timed_wake_cb = self._timed_wake
        self._resume_cb = self._resume
        self._start_cb = self._start
        self._hub = greenlet(self._run)
        self.driver: Unit = Unit()
        self.driver.glet = getcurrent()
        self.current = self.driver

    @property
    def explore(self) -> Any:
        return self._explore

    @explore.setter
    def explore(self, rng: Any) -> None:
        self._explore = rng
        self.hooked = rng is not None or self._after_event is not None

    @property
    def after_event(self) -> Callable[[], None] | None:
        return self._after_event

    @after_event.setter
    def after_event(self, hook: Callable[[], None] | None) -> None:
        self._after_event = hook
        self.hooked = self._explore is not None or hook is not None

    # -- scheduling callbacks ---------------------------------------------------------------
    def call_soon(self, fn: Callback, arg: Any = None) -> None:
        """Run `fn(arg)` at the current virtual time, after what is already due."""
        self._ready.append((fn, arg))

    def call_at(self, when: float, fn: Callback, arg: Any = None) -> None:
        """Run `fn(arg)` at virtual time `when` (never before now)."""
        seq = 0 if self._explore is None else self._shuffled()
        self._push(when if when > self.now else self.now, (seq, fn, arg))

    def _push(self, when: float, entry: tuple[int, Any, Any]) -> None:
        """Add a timer entry at `when` (no earlier than now)."""
        timers = self._timers
        held = timers.setdefault(when, entry)
        if held is entry:  # the instant's first timer
            _heappush(self._times, when)
        elif held[1] is _TIED:
            if self._explore is None:
                held[2].append(entry)
            else:
                insort(held[2], entry, key=_seq_of)  # after any equal seq (0s, if any)
        elif self._explore is None or held[0] <= entry[0]:
            timers[when] = (0, _TIED, deque([held, entry]))
        else:
            timers[when] = (0, _TIED, deque([entry, held]))

    def _pop(self) -> tuple[float, tuple[int, Any, Any]]:
        """Take the earliest timer (there is one)."""
        times = self._times
        when = times[0]
        timers = self._timers
        entry = timers.pop(when)
        if entry[1] is _TIED:
            tied = entry[2]
            entry = tied.popleft()
            if tied:
                timers[when] = (0, _TIED, tied)
                return when, entry
        heapq.heappop(times)
        return when, entry

    def _shuffled(self) -> int:
        """A tiebreak drawn from the exploration RNG (unique: a count is kept in its low bits)."""
        self._seq += 1
        return (self._explore.getrandbits(32) << 40) | self._seq

    def has_events(self) -> bool:
        """Whether any callback is due now or later (timers, wake-ups, spawns)."""
        return bool(self._ready or self._times)

    def has_timer(self, fn: Callback) -> bool:
        """Whether a timer that will call `fn` is pending (a linear scan: for rare checks)."""
        for held in self._timers.values():
            for entry in held[2] if held[1] is _TIED else (held,):
                if entry[1] == fn:
                    return True
        return False

    # -- units ------------------------------------------------------------------------------
    def block(self, what: Any) -> Any:
        """Suspend the current unit until someone calls `wake` on it; return what it sends.

        An exception sent with `wake(unit, exc, throw=True)` is raised here.
        """
        me = self.current
        assert me is not None
        me.blocked_on = what
        # asyncio keeps "the running loop" per thread; units share the thread, so each carries
        # its own across switches. No loop can run before asyncio is imported.
        events = _modules.get("asyncio.events") if self.asyncio_imported else None
        if events is not None:
            loop = events._get_running_loop()
            if loop is not None:
                me.loop = loop
                events._set_running_loop(None)
        self.current = None  # callbacks run by the hub belong to no unit
        try:
            result = self._hub.switch()
        except LivelockInterrupt as interrupt:
            # The livelock guard's interrupt, landed here: in the driver as it reaches it from
            # the hub (the hub's parent), or in a unit resuming from its own `block`.
            self.current = me
            self.livelocked(interrupt)
        self.current = me
        me.blocked_on = None
        if me.loop is not None:
            _modules["asyncio.events"]._set_running_loop(me.loop)
            me.loop = None
        if me.env is not self.env_now or me.interrupt:
            self.on_switch_in(me)
        if type(result) is _Throw:
            raise result.exc
        return result

    def livelocked(self, interrupt: LivelockInterrupt) -> None:
        """End the run with the guard's interrupt, wherever in the simulator's thread it landed.

        The driver raises LivelockError: the run is over, and later switches to the hub raise
        it too. A unit hands the interrupt to the driver and is never resumed: raised in the
        unit, its call's runner would take it for the call's own failure, and the run would go
        on.
        """
        if self.current is not self.driver:
            self.driver.glet.throw(interrupt)
            return  # not reached: the driver raises and the run ends there
        error = as_error(interrupt)
        self._hub = greenlet(lambda *_: _raise(error))
        raise error from None

    def sleep_until(self, until: float) -> None:
        """Suspend the current unit until virtual time `until` (the hub wakes it)."""
        me = self.current
        assert me is not None
        seq = 0 if self._explore is None else self._shuffled()
        now = self.now
        # A sleep's timer: no callback (None), the unit, and the unit's `blocked_on` is the
        # entry itself while it sleeps: the timer is live while that holds (anything that
        # wakes or ends the unit sooner resets `blocked_on`), so it needs no wake token.
        mine = (seq, None, me)
        self._push(until if until > now else now, mine)
        self.block(mine)

    def sleep(self, seconds: float) -> None:
        """`time.sleep` while the session is up (`vtime` installs it): the current unit sleeps
        `seconds` of virtual time, as `sleep_until(now + seconds)`; a real thread (not the
        simulator's) sleeps for real, and code that runs in no unit returns at once. Most task
        bodies call it, so it is one frame."""
        me = self.current
        # A unit runs on its own greenlet: then this is the simulator's thread (a greenlet
        # belongs to one thread), which asks no thread id; anything else is checked in full.
        if me is None or me.glet is not getcurrent():
            if _get_ident() != self.thread:
                return self.real_sleep(seconds)
            if me is None:
                # No unit runs: user code called from the hub's callbacks (a `__del__` or
                # weakref callback run during them). There is nothing to suspend, and virtual
                # time moves only between events, so it returns at once with the clock where
                # it was (after the checks of `seconds` below).
                if not self.now + seconds > self.now and seconds < 0:
                    raise ValueError("sleep length must be non-negative")
                return
        now = self.now
        until = now + seconds
        if not until > now:  # a zero, negative or NaN sleep (or one too short for the clock)
            if seconds < 0:
                raise ValueError("sleep length must be non-negative")
            until = now
        if (
            self._ready
            or self.hooked
            or self.asyncio_imported
            and "asyncio.events" in _modules
            and _modules["asyncio.events"]._get_running_loop() is not None
        ):
            self.sleep_until(until)
            return
        # Fast path, when the hub would only run timers next (nothing ready, no exploration or
        # per-event hook, no asyncio loop in this unit): do the hub's next step here. If `me`'s
        # timer would be the earliest, the clock moves with no switch; if the earliest is a
        # live wake of another unit, and `me`'s instant has no timer yet, one switch goes
        # straight to it instead of two through the hub; anything else is left to the hub.
        # The hub, resumed later, carries on from where it was, so events run in the same order.
        times = self._times
        if not times or until < (first := times[0]):
            self.now = until
            return
        mine = (0, None, me)  # as `sleep_until` makes it (no exploration here)
        timers = self._timers
        entry = timers.pop(first)
        _, fn, unit = entry
        if fn is None:  # a sleep's timer, live while the unit's `blocked_on` is it
            if unit.blocked_on is entry and timers.setdefault(until, mine) is mine:
                _heapreplace(times, until)
                self.now = first
                me.blocked_on = mine
                # `unit` sets `current` as it resumes (here or in `block`); it is sent nothing.
                result = unit.glet.switch()
                self.current = me
                me.blocked_on = None
                if me.env is not self.env_now or me.interrupt:
                    self.on_switch_in(me)
                if result and type(result) is _Throw:  # a sleep's timer sends nothing: ()
                    raise result.exc
                return
        elif fn is self._timed_wake_cb:
            unit, token, value = unit
            glet = unit.glet
            if (
                unit.wake_token + 1 == token
                and unit.blocked_on is not None
                and glet is not None
                and timers.setdefault(until, mine) is mine
            ):
                _heapreplace(times, until)
                self.now = first
                unit.wake_token = token
                me.blocked_on = mine
                result = glet.switch(value)
                self.current = me
                me.blocked_on = None
                if me.env is not self.env_now or me.interrupt:
                    self.on_switch_in(me)
                if result is not None and type(result) is _Throw:
                    raise result.exc
                return
        timers[first] = entry  # the hub's to run (a callback, stale timer or tie), in order
        self._push(until, mine)
        self.block(mine)

    def wake(self, unit: Unit, value: Any = None, throw: bool = False) -> None:
        """Make a blocked unit runnable now; it receives `value` (or raises it if `throw`)."""
        unit.wake_token += 1
        self._ready.append(
            (self._resume_cb, (unit, unit.wake_token, _Throw(value) if throw else value))
        )

    def wake_at(self, when: float, unit: Unit, value: Any = None) -> None:
        """Wake `unit` at `when` unless something else wakes it first."""
        self.call_at(when, self._timed_wake_cb, (unit, unit.wake_token + 1, value))

    def _resume(self, arg: tuple[Unit, int, Any]) -> None:
        unit, token, value = arg
        if unit.wake_token == token and unit.glet is not None:
            unit.glet.switch(value)

    def _timed_wake(self, arg: tuple[Unit, int, Any]) -> None:
        unit, token, value = arg
        if unit.wake_token + 1 == token and unit.blocked_on is not None and unit.glet is not None:
            unit.wake_token = token
            unit.glet.switch(value)

    def spawn(self, unit: Unit, body: Callable[[Unit], None]) -> None:
        """Start `body(unit)` on a pooled worker greenlet, at the current virtual time."""
        self._ready.append((self._start_cb, (unit, body)))

    def _start(self, arg: tuple[Unit, Callable[[Unit], None]]) -> None:
        worker = self._idle.pop() if self._idle else greenlet(self._worker_loop, parent=self._hub)
        worker.switch(arg)

    def _worker_loop(self, arg: tuple[Unit, Callable[[Unit], None]]) -> None:
        idle = self._idle
        hub = self._hub
        me = getcurrent()
        while True:
            unit, body = arg
            unit.glet = me
            self.current = unit
            body(unit)
            # The unit that ran last frees the worker: `unit`, or the one its body went on with
            # (a task's body runs the next task of its class itself, see `SimBackend._run_task`).
            self.current.glet = None  # type: ignore[union-attr]
            if self.closed:
                return
            # A finishing task may hand its worker straight to the next task of its class,
            # as a Ray worker lease is reused: no trip through the hub.
            if self.handoff is not None:
                arg, self.handoff = self.handoff, None
                continue
            idle.append(me)
            self.current = None
            arg = hub.switch()

    def abandon(self, unit: Unit) -> None:
        """End a unit at once (a forced kill): it never resumes; its `finally` blocks run now."""
        glet = unit.glet
        unit.blocked_on = None
        unit.wake_token += 1
        unit.glet = None
        if glet is None:
            self._unspawn(unit)
        elif not glet.dead and glet is not getcurrent():
            me = self.current
            glet.parent = getcurrent()  # so the dying greenlet returns here, not to the hub
            self.current = unit
            try:
                glet.throw(GreenletExit)
            finally:
                self.current = me

    def _unspawn(self, unit: Unit) -> None:
        """A unit spawned but not started yet never starts: its start leaves the ready queue
        (or the hand-over of a finishing worker). Without this a forced end of a task placed
        but not started ran its body later, its arguments already dropped."""
        handoff = self.handoff
        if handoff is not None and handoff[0] is unit:
            self.handoff = None
        start = self._start_cb
        for entry in self._ready:
            if entry[0] is start and entry[1][0] is unit:
                self._ready.remove(entry)
                return

    # -- the hub ----------------------------------------------------------------------------
    def _run(self) -> None:
        ready = self._ready
        times = self._times
        pop = self._pop
        while True:
            if self._explore is None:
                while ready:
                    fn, arg = ready.popleft()
                    fn(arg)
            else:
                self._run_ready_explored()
            if self._after_event is not None:
                self._after_event()
            if times:
                when, entry = pop()
                _, fn, arg = entry
                self.now = when
                if fn is not None:
                    fn(arg)
                elif arg.blocked_on is entry:  # a live sleep's timer (see `sleep_until`)
                    arg.glet.switch()
                continue
            # Nothing left to do while the driver waits: let the backend explain it (or, when
            # it returns None, carry on with what it scheduled: an autoscaler launching nodes).
            stall = self.on_stall()
            if stall is not None:
                self.driver.glet.switch(_Throw(stall))

    def _run_ready_explored(self) -> None:
        """Run the ready callbacks, each time picking the next one with the exploration RNG:
        they are all due at this instant, so any order is one a real cluster could show."""
        ready = self._ready
        rng = self._explore
        while ready:
            n = len(ready)
            i = rng.randrange(n) if n > 1 else 0
            if i:
                ready.rotate(-i)
                fn, arg = ready.popleft()
                ready.rotate(i)
            else:
                fn, arg = ready.popleft()
            fn(arg)

    def close(self) -> None:
        """Forget every unit and event; suspended greenlets are discarded."""
        self.closed = True
        self._times.clear()
        self._timers.clear()
        self._ready.clear()
        self._idle.clear()


_TIED = object()  # marks an instant's entry that holds several timers
_seq_of = itemgetter(0)


def _raise(error: BaseException) -> None:
    raise error


class _Throw:
    """Marks a value sent to a blocked unit as an exception to raise there."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc
