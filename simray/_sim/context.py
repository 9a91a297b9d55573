"""The runtime context on the sim backend: what `ray.get_runtime_context()` reports to the
driver, a task or an actor call (ids, node, resources, names, labels, runtime_env).
"""

from __future__ import annotations

from typing import Any

from simray._context_fields import (
    driver_context,
    effective_env,
    function_name,
    placement_group_fields,
)
from simray._model.resources import to_floats
from simray._ray_ids import worker_id_hex
from simray._sim.actors import ActorCall, ActorLoop
from simray._sim.scheduler import node_labels
from simray._sim.tasks import Task


class Context:
    """Mixed into SimBackend: the caller's context."""

    # Provided by SimBackend.
    kernel: Any
    scheduler: Any
    actors: Any
    namespace: str
    seed: int
    runtime_env: dict[str, Any]

    def context(self) -> dict[str, Any]:
        """A snapshot of the caller's context (see `simray.runtime_context`)."""
        unit = self.kernel.current
        head = self.scheduler.all_nodes[0]
        info: dict[str, Any]
        if type(unit) in (ActorCall, ActorLoop):
            actor = unit.actor
            call = unit if type(unit) is ActorCall else self.actors.current_async_call()
            method = call.method if call is not None else None
            info = {
                "node_id": actor.node.node_id,
                "task_id": call.hex() if call is not None else None,
                "actor_id": actor.hex(),
                "assigned": to_floats(actor.holds),
                "gpu_ids": actor.gpu_ids(),
                "namespace": self.namespace,  # the job's, even for an actor named elsewhere
                "cancelled": getattr(unit, "cancelled", False),
                "async_actor": type(unit) is ActorLoop,
                "worker": True,
                "task_name": f"{actor.opts.class_name}.{method}" if method else None,
                "function_name": function_name(actor.cls, method) if method else None,
                "actor_name": actor.opts.name or "",
                "actor_handle": actor.weak_handle,  # Ray's self handle does not count
                "restarts": actor.restarts,
                "worker_id": worker_id_hex(f"actor-{actor.actor_id}-{actor.restarts}", self.seed),
                "labels": node_labels(actor.node),
                "runtime_env": effective_env(actor.opts.raw, _env_vars(actor.env)),
            }
            strategy = actor.opts.strategy
        elif type(unit) is Task:
            creating = getattr(unit.opts, "actor", None)
            # An actor's constructor has handed its node (and what it holds) to the actor.
            node = unit.node if unit.node is not None else creating.node
            info = {
                "node_id": node.node_id,
                "task_id": unit.hex(),
                "assigned": to_floats(unit.demand),
                "gpu_ids": unit.gpu_ids(),
                "namespace": self.namespace,
                "cancelled": unit.cancelled,
                "worker": True,
                "task_name": unit.name,
                "function_name": function_name(None, unit.fn)
                if creating is None
                else function_name(creating.cls, "__init__"),
                "worker_id": worker_id_hex(f"task-{unit.task_id}-{unit.attempt}", self.seed),
                "labels": node_labels(node),
                "runtime_env": effective_env(unit.opts.raw, _env_vars(unit.env)),
            }
            if creating is not None:
                info["actor_id"] = creating.hex()
                info["actor_name"] = creating.opts.name or ""
                info["actor_handle"] = creating.weak_handle
                info["assigned"] = to_floats(creating.opts.placement_demand)
            strategy = unit.strategy
        else:
            worker_id = worker_id_hex("driver", self.seed)
            info = driver_context(
                head.node_id, node_labels(head), self.namespace, worker_id, self.runtime_env
            )
            strategy = None
        info.update(placement_group_fields(strategy))
        return info

    def now(self) -> float:
        return self.kernel.now


def _env_vars(env: Any) -> dict[str, str] | None:
    """A unit's env_vars: its env is a `UnitEnv` when it has any (else its CUDA devices)."""
    return getattr(env, "vars", None)
