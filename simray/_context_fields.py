"""Fields of a runtime-context snapshot that the sim and local backends compute alike (see
`simray.runtime_context`): the driver's context, the function's name as Ray reports it, the
caller's effective runtime_env, and its placement group.
"""

from __future__ import annotations

from typing import Any

from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy


def driver_context(
    node_id: str, labels: dict[str, str], namespace: str, worker_id: str, runtime_env: Any
) -> dict[str, Any]:
    """The driver's context: on the head node, no task, nothing assigned, not a worker."""
    return {
        "node_id": node_id,
        "task_id": None,
        "assigned": {},
        "gpu_ids": [],
        "namespace": namespace,
        "cancelled": False,
        "worker": False,
        "worker_id": worker_id,
        "labels": labels,
        "runtime_env": runtime_env,
    }


def function_name(cls: Any, fn: Any) -> str:
    """`module.Class.method` or `module.function`, as Ray names a task's function."""
    if cls is not None:
        return f"{cls.__module__}.{cls.__qualname__}.{fn}"
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def effective_env(raw: dict[str, Any], env_vars: dict[str, str] | None) -> dict[str, Any]:
    """A unit's runtime_env as its context reports it: its own, with the merged env_vars."""
    own = dict(raw.get("runtime_env") or {})
    if env_vars:
        own["env_vars"] = dict(env_vars)
    return own


def placement_group_fields(strategy: Any) -> dict[str, Any]:
    """`pg_id` and `capture` of a unit scheduled into a placement group; none otherwise."""
    if isinstance(strategy, PlacementGroupSchedulingStrategy) and strategy.placement_group:
        return {
            "pg_id": strategy.placement_group.id.hex(),
            "capture": bool(strategy.placement_group_capture_child_tasks),
        }
    return {}
