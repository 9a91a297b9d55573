"""Testing Ray code with simray: the pytest plugin, Ray's test helpers, bundled scenarios.

- The pytest plugin (loaded automatically once simray is installed) gives the fixtures
  `simray_session` (configured by `@pytest.mark.simray(...)`), `simray_cluster`, `simray_seed`
  and Ray's own conftest fixtures (`ray_start_regular`, `ray_start_cluster`, `shutdown_only`,
  ...), and the options `--simray-backend`, `--simray-seed`, `--simray-seeds=K`,
  `--simray-patch-ray`.
- `SignalActor`, `Semaphore`, `wait_for_condition`: Ray's test helpers, in virtual time on sim.
- `simray.testing.scenarios`: bundled Ray programs with the property each must keep.
- `simray.testing.strategies`: hypothesis strategies (seeds, cluster shapes, task graphs);
  importable when hypothesis is installed.

Importing this package imports neither a backend nor hypothesis.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SignalActor": "simray.util.test_utils",
    "Semaphore": "simray.util.test_utils",
    "wait_for_condition": "simray.util.test_utils",
    "async_wait_for_condition": "simray.util.test_utils",
    "SimraySession": "simray.testing._fixtures",
}
_SUBMODULES = ("scenarios", "strategies")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"simray.testing.{name}")
    raise AttributeError(f"module 'simray.testing' has no attribute {name!r}")


__all__ = sorted([*_LAZY, *_SUBMODULES])
