"""PACK and STRICT_PACK placement groups of 2x{CPU:1} on a 4-CPU node: ready() resolves, state CREATED,
tasks run in bundle 0 via PlacementGroupSchedulingStrategy, available CPU drops by 2 while the group
exists and comes back after remove_placement_group."""
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
def where(i):
    return i * 2


def cpu():
    return ray.available_resources().get("CPU", 0.0)


def wait_cpu(expected, limit=20.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if cpu() == expected:
            return True
        time.sleep(0.1)
    return False


print("CPU before", cpu())
for strategy in ("PACK", "STRICT_PACK"):
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy=strategy)
    print(strategy, "ready", ray.get(pg.ready(), timeout=10) is not None)
    print(strategy, "wait", pg.wait(timeout_seconds=10))
    table = placement_group_table(pg)
    print(strategy, "state", table["state"], "strategy", table["strategy"])
    print(strategy, "CPU while pg exists", wait_cpu(2.0), cpu())
    s0 = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=0)
    s1 = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=1)
    sany = PlacementGroupSchedulingStrategy(pg)
    print(strategy, "bundle 0", ray.get([where.options(scheduling_strategy=s0).remote(i) for i in range(3)], timeout=60))
    print(strategy, "bundle 1", ray.get(where.options(scheduling_strategy=s1).remote(10), timeout=60))
    print(strategy, "any bundle", ray.get([where.options(scheduling_strategy=sany).remote(i) for i in range(4)], timeout=60))
    # Tasks outside the group can use only the 2 remaining CPUs.
    print(strategy, "outside", ray.get([where.remote(i) for i in range(2)], timeout=60))
    remove_placement_group(pg)
    print(strategy, "CPU after remove", wait_cpu(4.0), cpu())
    state = None
    for _ in range(100):
        state = placement_group_table(pg)["state"]
        if state == "REMOVED":
            break
        time.sleep(0.1)
    print(strategy, "state after remove", state)

ray.shutdown()
