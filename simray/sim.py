"""The sim backend's own controls: the virtual clock and the trace of the running session."""

from __future__ import annotations

from simray import _session


def _sim_session():  # type: ignore[no-untyped-def]
    session = _session.active()
    if session is None or session.name != "sim":
        raise RuntimeError(
            "no sim session is running: call simray.init() (backend 'sim') before using simray.sim"
        )
    return session


def now() -> float:
    """Virtual seconds since `init` (0.0 at init)."""
    try:
        return _session._active.kernel.now
    except AttributeError:
        return _sim_session().kernel.now


def trace_lines() -> list[str]:
    """The trace so far as JSON lines (the session must have been started with a trace)."""
    session = _sim_session()
    if session.trace is None:
        raise RuntimeError(
            "this sim session records no trace: pass init(trace=PATH) or set SIMRAY_TRACE"
        )
    return session.trace.lines()


__all__ = ["now", "trace_lines"]
