"""The one active session: which backend runs the program, chosen at `init`.

The api layer asks this module for the backend and never imports one itself; backends are
looked up by name so that importing simray imports neither greenlet-heavy sim code nor Ray.
What a backend must provide is `simray._backend.Backend`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simray._backend import Backend

BACKENDS = {
    "sim": "simray._sim.backend:SimBackend",
    "ray": "simray._ray_backend:RayBackend",
    "local": "simray._local.backend:LocalBackend",
}
_active: Backend | None = None


def backend() -> Backend:
    """The running backend; starts a default one, as Ray's API calls auto-init.

    Inside a real Ray worker (a task of the `ray` backend calling simray), it is that Ray.
    """
    global _active
    if _active is None:
        if "ray" in sys.modules and sys.modules["ray"].__name__ == "ray":
            from simray._ray_backend import attach_if_in_ray_worker

            _active = attach_if_in_ray_worker()
            if _active is not None:
                return _active
        init()
    return _active


def active() -> Backend | None:
    """The running backend or None."""
    return _active


def resolve_backend_name(name: str | None) -> str:
    """`init(backend=)` first, then `SIMRAY_BACKEND`, then `sim`."""
    chosen = name or os.environ.get("SIMRAY_BACKEND") or "sim"
    if chosen not in BACKENDS:
        raise ValueError(
            f"unknown backend {chosen!r}; choose one of {sorted(BACKENDS)} "
            "(via init(backend=...), --backend or SIMRAY_BACKEND)"
        )
    return chosen


def init(backend: str | None = None, **kwargs: Any) -> Backend:
    """Start a session on the chosen backend."""
    global _active
    name = resolve_backend_name(backend)
    module_name, _, class_name = BACKENDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    _active = cls(**kwargs)
    return _active


def shutdown() -> None:
    """End the session, if any."""
    global _active
    monitor = getattr(_active, "monitor", None)
    if monitor is not None:
        monitor.stop()  # Ray's driver stops printing the cluster's events as shutdown begins
    drain = getattr(_active, "drain", None)
    if drain is not None:
        drain()  # while the session is still the active one: draining work may call the API
    current, _active = _active, None
    if current is not None:
        current.shutdown()


def drain_grace() -> float:
    """`SIMRAY_SHUTDOWN_GRACE`: how long shutdown lets fire-and-forget tasks finish (sim: virtual
    seconds; local: seconds), default 1; 0 turns the drain off."""
    text = os.environ.get("SIMRAY_SHUTDOWN_GRACE", "")
    if not text.strip():
        return 1.0
    try:
        grace = float(text)
    except ValueError:
        grace = -1.0
    if grace < 0:
        raise ValueError(
            f"SIMRAY_SHUTDOWN_GRACE must be a number of seconds >= 0 (0: no drain), got {text!r}"
        )
    return grace
