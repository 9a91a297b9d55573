"""Ray's `ray.util` names that simray provides: accelerators, scheduling strategies, the
test-coordination actors and placement groups."""

from typing import Any

from simray.util import accelerators as accelerators
from simray.util import scheduling_strategies as scheduling_strategies
from simray.util.placement_group import get_current_placement_group as get_current_placement_group
from simray.util.placement_group import get_placement_group as get_placement_group
from simray.util.placement_group import placement_group as placement_group
from simray.util.placement_group import placement_group_table as placement_group_table
from simray.util.placement_group import remove_placement_group as remove_placement_group

# The test-coordination actors live in `test_utils`, which needs asyncio: imported on first use.
_FROM_TEST_UTILS = frozenset({"Semaphore", "SignalActor"})


def __getattr__(name: str) -> Any:
    if name in _FROM_TEST_UTILS:
        from simray.util import test_utils

        return getattr(test_utils, name)
    raise AttributeError(f"module 'simray.util' has no attribute {name!r}")


def list_named_actors(all_namespaces: bool = False) -> list[Any]:
    """Names of the live named actors: names in the current namespace, or dicts with
    `name` and `namespace` for every namespace."""
    from simray import _session

    found = _session.backend().list_named_actors(all_namespaces)
    return found if all_namespaces else [entry["name"] for entry in found]


__all__ = [
    "list_named_actors",
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
