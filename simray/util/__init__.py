"""Ray's `ray.util` names that simray provides: accelerators and scheduling strategies."""

from simray.util import accelerators as accelerators
from simray.util import scheduling_strategies as scheduling_strategies

__all__ = ["accelerators", "scheduling_strategies"]
