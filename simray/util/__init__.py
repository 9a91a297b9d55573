"""Ray's `ray.util` names that simray provides: accelerators, scheduling strategies, the
test-coordination actors and placement groups."""

from simray.util import accelerators as accelerators
from simray.util import scheduling_strategies as scheduling_strategies
from simray.util.test_utils import Semaphore as Semaphore
from simray.util.test_utils import SignalActor as SignalActor

__all__ = ["Semaphore", "SignalActor", "accelerators", "scheduling_strategies"]
