"""Placement group metadata: bundle_count and bundle_specs, get_placement_group(name) for a named
group, an infeasible bundle keeps the group PENDING, custom resources in bundles, invalid arguments."""
import os

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402
from ray.util.placement_group import (  # noqa: E402
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)

ray.init(num_cpus=4, num_gpus=1, resources={"disk": 3}, include_dashboard=False)

bundles = [{"CPU": 1}, {"CPU": 2, "GPU": 1}, {"disk": 2}]
pg = placement_group(bundles, strategy="PACK", name="my-group")
print("bundle_count", pg.bundle_count)
print("bundle_specs", [sorted(b.items()) for b in pg.bundle_specs])
print("wait", pg.wait(timeout_seconds=10))

found = get_placement_group("my-group")
print("found type", type(found).__name__)
print("same id", found.id == pg.id)
print("found bundle_count", found.bundle_count)
table = placement_group_table(found)
print("table name", table["name"], "state", table["state"], "strategy", table["strategy"])
print("table bundles", [sorted(b.items()) for _, b in sorted(table["bundles"].items())])

try:
    get_placement_group("no-such-group")
    print("missing found")
except Exception as e:
    print("missing", type(e).__name__)

infeasible = placement_group([{"CPU": 1}, {"CPU": 100}], strategy="PACK")
print("infeasible wait", infeasible.wait(timeout_seconds=2))
print("infeasible state", placement_group_table(infeasible)["state"])
missing_res = placement_group([{"tpu": 1}])
print("missing resource wait", missing_res.wait(timeout_seconds=2))
print("missing resource state", placement_group_table(missing_res)["state"])
# Default strategy is PACK.
print("default strategy", placement_group_table(missing_res)["strategy"])

for label, args, kwargs in (
    ("empty bundles", ([],), {}),
    ("empty bundle", ([{}],), {}),
    ("all-zero bundle", ([{"CPU": 0}],), {}),
    ("bad strategy", ([{"CPU": 1}],), {"strategy": "NOPE"}),
):
    # No negative bundle here: Ray 2.60 accepts one, and its raylet can then crash returning
    # the bundle on removal (a check failure in FreeTaskResourceInstances, seen in CI).
    try:
        remove_placement_group(placement_group(*args, **kwargs))
        print(label, "accepted")
    except Exception as e:
        print(label, type(e).__name__)

for g in (pg, infeasible, missing_res):
    remove_placement_group(g)
ray.shutdown()
