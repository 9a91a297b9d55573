"""On a 1-node cluster STRICT_SPREAD of 2 bundles cannot be placed (stays PENDING, pg.wait -> False),
while SPREAD of 2 bundles is best effort and is created on the one node."""
import os
import time

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402
from ray.util.placement_group import (  # noqa: E402
    placement_group,
    placement_group_table,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy  # noqa: E402

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
def f(x):
    return x + 1


strict = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
print("STRICT_SPREAD wait", strict.wait(timeout_seconds=2))
print("STRICT_SPREAD state", placement_group_table(strict)["state"])
ready, _ = ray.wait([strict.ready()], timeout=1)
print("STRICT_SPREAD ready", len(ready))
# A pending group reserves nothing.
print("CPU with pending group", ray.available_resources().get("CPU"))
# A task scheduled into the pending group does not run.
t = f.options(scheduling_strategy=PlacementGroupSchedulingStrategy(strict, placement_group_bundle_index=0)).remote(1)
ready, _ = ray.wait([t], timeout=2)
print("task in pending group ready", len(ready))
ray.cancel(t)
try:
    ray.get(t, timeout=30)
except Exception as e:
    print("cancel task in pending group", type(e).__name__)
remove_placement_group(strict)

spread = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD")
print("SPREAD wait", spread.wait(timeout_seconds=10))
print("SPREAD state", placement_group_table(spread)["state"])
s = [PlacementGroupSchedulingStrategy(spread, placement_group_bundle_index=i) for i in range(2)]
print("SPREAD tasks", ray.get([f.options(scheduling_strategy=s[i % 2]).remote(i) for i in range(4)], timeout=60))
cpu_ok = False
for _ in range(100):
    if ray.available_resources().get("CPU") == 2.0:
        cpu_ok = True
        break
    time.sleep(0.1)
print("SPREAD CPU", cpu_ok, ray.available_resources().get("CPU"))
remove_placement_group(spread)

# STRICT_SPREAD with a single bundle fits on one node.
one = placement_group([{"CPU": 2}], strategy="STRICT_SPREAD")
print("STRICT_SPREAD 1 bundle wait", one.wait(timeout_seconds=10))
print("STRICT_SPREAD 1 bundle state", placement_group_table(one)["state"])
remove_placement_group(one)

ray.shutdown()
