"""Ray's v1 autoscaler policy as pure functions, and `sdk.request_resources`.

`get_nodes_for(node_types, existing_nodes, head_node_type, max_to_add, demands)` takes and
returns what Ray's `ray.autoscaler._private.resource_demand_scheduler.get_nodes_for` does: node
type configs (`{"resources": {...}, "min_workers": n, "max_workers": m}`), counts of existing
nodes by type, and resource demands; it answers (node type -> count to add, unfulfilled demands).
"""

from simray._model.autoscaler import ClusterNode as ClusterNode
from simray._model.autoscaler import PendingPlacementGroup as PendingPlacementGroup
from simray._model.autoscaler import ResourceDemandScheduler as ResourceDemandScheduler
from simray._model.autoscaler import get_bin_pack_residual as get_bin_pack_residual
from simray._model.autoscaler import get_nodes_for as get_nodes_for
from simray._model.autoscaler import nodes_to_terminate as nodes_to_terminate
from simray._model.autoscaler import utilization_score as utilization_score

__all__ = [
    "ClusterNode",
    "PendingPlacementGroup",
    "ResourceDemandScheduler",
    "get_bin_pack_residual",
    "get_nodes_for",
    "nodes_to_terminate",
    "utilization_score",
]
