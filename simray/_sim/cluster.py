"""The sim cluster's nodes and resources: adding and removing nodes (also by the
autoscaler), and the resource and node queries of the api layer.
"""

from __future__ import annotations

from typing import Any

from simray._model.resources import to_floats
from simray._sim.scheduler import SimNode, node_total


class Cluster:
    """Mixed into SimBackend: its nodes."""

    # Provided by SimBackend.
    kernel: Any
    scheduler: Any
    recorder: Any
    faults: Any
    seed: int

    def add_node(
        self,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: dict[str, float] | None = None,
        memory: float | None = None,
        object_store_memory: float | None = None,
        labels: dict[str, str] | None = None,
        accelerator_type: str | None = None,
    ) -> SimNode:
        """Add a node now (before or during a run); pending work may start on it at once."""
        index = len(self.scheduler.all_nodes)
        is_head = index == 0
        resources = dict(resources or {})
        labels = dict(labels or {})
        if accelerator_type is not None:
            resources[f"accelerator_type:{accelerator_type}"] = 1
            labels["ray.io/accelerator-type"] = accelerator_type
        ip = f"127.0.0.{index + 1}"
        total = node_total(num_cpus, num_gpus, resources, memory, object_store_memory, ip, is_head)
        node = SimNode(index, total, labels, is_head, self.seed)
        node.started_at = self.kernel.now
        self.recorder.record("node_added", node=node.index, resources=to_floats(total))
        self.scheduler.add_node(node)
        return node

    def enable_autoscaler(self, spec: Any) -> Any:
        """Run Ray's autoscaler for `spec` (a ClusterSpec) on this session (`_sim.autoscaling`)."""
        from simray._sim.autoscaling import install

        return install(self, spec)

    def remove_node(self, node_id: str) -> None:
        """The node dies now: its tasks fail or retry, its actors die or restart, objects only
        it held are rebuilt or lost (see `_sim.faults`)."""
        self.faults.kill_node(self.node_by_id(node_id))

    def node_by_id(self, node_id: str) -> SimNode:
        for node in self.scheduler.all_nodes:
            if node.node_id == node_id:
                return node
        raise ValueError(f"no node with id {node_id!r} in this sim cluster")

    def cluster_resources(self) -> dict[str, float]:
        return self.scheduler.cluster_resources()

    def available_resources(self) -> dict[str, float]:
        return self.scheduler.available_resources()

    def nodes(self) -> list[dict[str, Any]]:
        return self.scheduler.node_rows()
