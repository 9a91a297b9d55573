"""The sim cluster's nodes and resources: adding and removing nodes (also by the
autoscaler), and the resource and node queries of the api layer.
"""

from __future__ import annotations

from typing import Any

from simray._model.resources import to_floats
from simray._sim.scheduler import SimNode, node_total


def new_node(
    index: int,
    num_cpus: float,
    num_gpus: float,
    resources: dict[str, float] | None,
    memory: float | None,
    object_store_memory: float | None,
    labels: dict[str, str] | None,
    accelerator_type: str | None,
    seed: int = 0,
) -> SimNode:
    """Node number `index` (0 is the head) of `add_node`'s options, with Ray's totals and
    labels (an accelerator type is a resource and a label); shared by sim and local."""
    resources = dict(resources or {})
    labels = dict(labels or {})
    if accelerator_type is not None:
        resources[f"accelerator_type:{accelerator_type}"] = 1
        labels["ray.io/accelerator-type"] = accelerator_type
    ip = f"127.0.0.{index + 1}"
    is_head = index == 0
    total = node_total(num_cpus, num_gpus, resources, memory, object_store_memory, ip, is_head)
    return SimNode(index, total, labels, is_head, seed)


def node_by_id(nodes: list[SimNode], node_id: str, backend: str) -> SimNode:
    """The node with this id, dead or alive; ValueError naming the backend's cluster if none."""
    for node in nodes:
        if node.node_id == node_id:
            return node
    raise ValueError(f"no node with id {node_id!r} in this {backend} cluster")


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
        node = new_node(
            len(self.scheduler.all_nodes), num_cpus, num_gpus, resources, memory,
            object_store_memory, labels, accelerator_type, self.seed,
        )  # fmt: skip
        node.started_at = self.kernel.now
        self.recorder.record(
            "node_added", node=node.index, resources=to_floats(node.resources.total)
        )
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
        return node_by_id(self.scheduler.all_nodes, node_id, "sim")

    def cluster_resources(self) -> dict[str, float]:
        return self.scheduler.cluster_resources()

    def available_resources(self) -> dict[str, float]:
        return self.scheduler.available_resources()

    def nodes(self) -> list[dict[str, Any]]:
        return self.scheduler.node_rows()
