"""simray: Ray's API on a deterministic simulator (`sim`), real processes (`local`) or real Ray.

The names here mirror `ray`'s, so a Ray program runs unchanged with `import simray as ray`, or
through `simray exec`, where `import ray` resolves to simray.
"""

from typing import Any

# Ray reads RAY_SCHEDULER_EVENTS (its autoscaler notices on or off) when it is imported: so does
# simray, in `_output` (and again when a script's `import ray` resolves to simray).
from simray import _output  # noqa: F401
from simray._actor import ActorClass as ActorClass
from simray._actor import ActorHandle as ActorHandle
from simray._api import RuntimeContext as RuntimeContext
from simray._api import available_resources as available_resources
from simray._api import cancel as cancel
from simray._api import cluster_resources as cluster_resources
from simray._api import get as get
from simray._api import get_actor as get_actor
from simray._api import get_gpu_ids as get_gpu_ids
from simray._api import get_runtime_context as get_runtime_context
from simray._api import init as init
from simray._api import is_initialized as is_initialized
from simray._api import kill as kill
from simray._api import method as method
from simray._api import nodes as nodes
from simray._api import put as put
from simray._api import remote as remote
from simray._api import shutdown as shutdown
from simray._api import timeline as timeline
from simray._api import wait as wait
from simray._generator import DynamicObjectRefGenerator as DynamicObjectRefGenerator
from simray._generator import ObjectRefGenerator as ObjectRefGenerator
from simray._object_ref import ObjectRef as ObjectRef
from simray._ray_ids import ActorClassID as ActorClassID
from simray._ray_ids import ActorID as ActorID
from simray._ray_ids import FunctionID as FunctionID
from simray._ray_ids import JobID as JobID
from simray._ray_ids import NodeID as NodeID
from simray._ray_ids import PlacementGroupID as PlacementGroupID
from simray._ray_ids import TaskID as TaskID
from simray._ray_ids import UniqueID as UniqueID
from simray._ray_ids import WorkerID as WorkerID
from simray._remote_function import RemoteFunction as RemoteFunction

__version__ = "0.1.0"

ObjectID = ObjectRef  # as in Ray
SCRIPT_MODE = 0
WORKER_MODE = 1

# Submodules imported on first use, so that `import simray` stays cheap (exceptions pull in
# traceback machinery, util the test actors and with them asyncio).
_LAZY_SUBMODULES = frozenset(
    {"actor", "dag", "exceptions", "experimental", "runtime_context", "sim", "util"}
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"simray.{name}")
    if name == "cloudpickle":  # Ray re-exports its cloudpickle as ray.cloudpickle
        import cloudpickle

        return cloudpickle
    raise AttributeError(f"module 'simray' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)


__all__ = [
    "ActorClass",
    "ActorClassID",
    "ActorHandle",
    "ActorID",
    "FunctionID",
    "JobID",
    "NodeID",
    "DynamicObjectRefGenerator",
    "ObjectID",
    "ObjectRefGenerator",
    "ObjectRef",
    "PlacementGroupID",
    "SCRIPT_MODE",
    "TaskID",
    "UniqueID",
    "WORKER_MODE",
    "WorkerID",
    "actor",
    "runtime_context",
    "RemoteFunction",
    "RuntimeContext",
    "__version__",
    "available_resources",
    "cancel",
    "cluster_resources",
    "exceptions",
    "get",
    "get_actor",
    "get_gpu_ids",
    "get_runtime_context",
    "init",
    "is_initialized",
    "kill",
    "method",
    "nodes",
    "put",
    "remote",
    "shutdown",
    "timeline",
    "sim",
    "util",
    "wait",
]
