"""Ray's `ray.util` names that simray provides: accelerators, scheduling strategies, the
test-coordination actors and placement groups."""

from simray.util import accelerators as accelerators
from simray.util import scheduling_strategies as scheduling_strategies
from simray.util.placement_group import get_current_placement_group as get_current_placement_group
from simray.util.placement_group import get_placement_group as get_placement_group
from simray.util.placement_group import placement_group as placement_group
from simray.util.placement_group import placement_group_table as placement_group_table
from simray.util.placement_group import remove_placement_group as remove_placement_group
from simray.util.test_utils import Semaphore as Semaphore
from simray.util.test_utils import SignalActor as SignalActor

__all__ = [
    "Semaphore",
    "SignalActor",
    "accelerators",
    "get_current_placement_group",
    "get_placement_group",
    "placement_group",
    "placement_group_table",
    "remove_placement_group",
    "scheduling_strategies",
]
