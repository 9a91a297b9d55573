"""placement_group_table(): its keys, the scheduling state in `stats`, and bundles_to_node_id,
which Ray keeps after the group is removed."""
import ray
from ray.util.placement_group import (
    placement_group,
    placement_group_table,
    remove_placement_group,
)

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)
node = ray.nodes()[0]["NodeID"]
pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
ray.get(pg.ready())
table = placement_group_table(pg)
print("keys", sorted(table))
print("stats keys", sorted(table["stats"]))
print("state", table["state"], table["stats"]["scheduling_state"])
print("bundles on the node", sorted(i for i, n in table["bundles_to_node_id"].items() if n == node))
print("attempts counted", table["stats"]["scheduling_attempt"] >= 1)
remove_placement_group(pg)
ray.get(ray.remote(lambda: None).remote())
table = placement_group_table(pg)
print("after removal", table["state"], table["stats"]["scheduling_state"])
print("bundles on the node", sorted(i for i, n in table["bundles_to_node_id"].items() if n == node))
ray.shutdown()
