"""Ray's `ray.util` names that simray provides: accelerators, scheduling strategies, the
test-coordination actors and placement groups."""

from typing import Any

from simray.util import scheduling_strategies as scheduling_strategies
from simray.util.placement_group import get_current_placement_group as get_current_placement_group
from simray.util.placement_group import get_placement_group as get_placement_group
from simray.util.placement_group import placement_group as placement_group
from simray.util.placement_group import placement_group_table as placement_group_table
from simray.util.placement_group import remove_placement_group as remove_placement_group

# Names imported on first use (the test actors and the queue need asyncio; accelerators is a
# table of constants that `import simray` never reads): name -> (module, attr).
_LAZY = {
    "accelerators": ("simray.util.accelerators", None),
    "Semaphore": ("simray.util.test_utils", "Semaphore"),
    "SignalActor": ("simray.util.test_utils", "SignalActor"),
    "ActorPool": ("simray.util.actor_pool", "ActorPool"),
    "as_completed": ("simray.util.helpers", "as_completed"),
    "map_unordered": ("simray.util.helpers", "map_unordered"),
    "inspect_serializability": ("simray.util.check_serialize", "inspect_serializability"),
    "register_serializer": ("simray.util.serialization", "register_serializer"),
    "deregister_serializer": ("simray.util.serialization", "deregister_serializer"),
    "serialization": ("simray.util.serialization", None),
    "actor_pool": ("simray.util.actor_pool", None),
    "queue": ("simray.util.queue", None),
    "state": ("simray.util.state", None),
    "multiprocessing": ("simray.util.multiprocessing", None),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'simray.util' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(target[0])
    return module if target[1] is None else getattr(module, target[1])


def get_node_ip_address(address: str = "8.8.8.8:53") -> str:
    """The IP address of the node the caller runs on (on `sim`, its simulated address)."""
    from simray import _session

    backend = _session.backend()
    node_id = backend.context()["node_id"]
    for node in backend.nodes():
        if node["NodeID"] == node_id:
            return node["NodeManagerAddress"]
    return "127.0.0.1"


def get_node_instance_id() -> str:
    """The cloud instance id of the current node: `RAY_CLOUD_INSTANCE_ID`, else "" (as Ray)."""
    import os

    return os.getenv("RAY_CLOUD_INSTANCE_ID", "")


def list_named_actors(all_namespaces: bool = False) -> list[Any]:
    """Names of the live named actors: names in the current namespace, or dicts with
    `name` and `namespace` for every namespace."""
    from simray import _session

    found = _session.backend().list_named_actors(all_namespaces)
    return found if all_namespaces else [entry["name"] for entry in found]


__all__ = [
    "ActorPool",
    "deregister_serializer",
    "register_serializer",
    "as_completed",
    "get_node_instance_id",
    "get_node_ip_address",
    "inspect_serializability",
    "map_unordered",
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
