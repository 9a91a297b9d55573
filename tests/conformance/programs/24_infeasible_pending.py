"""Infeasible tasks (num_cpus=8 on a 2-CPU cluster, a custom resource the cluster lacks) stay pending
without an error, while other tasks keep running; they can be cancelled."""
# Keep Ray's autoscaler notices about infeasible tasks off stdout (must be set before import).
import os

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, resources={"present": 1}, include_dashboard=False)


@ray.remote
def work(x):
    return x + 1


too_many_cpus = work.options(num_cpus=8).remote(1)
missing_custom = work.options(resources={"custom": 1}).remote(2)
too_much_custom = work.options(resources={"present": 2}).remote(3)
gpu_needed = work.options(num_gpus=1).remote(4)
pending = [too_many_cpus, missing_custom, too_much_custom, gpu_needed]

ready, not_ready = ray.wait(pending, num_returns=len(pending), timeout=2)
print("infeasible ready", len(ready), "not ready", len(not_ready))

# Feasible work still runs.
print("feasible", ray.get([work.remote(i) for i in range(4)], timeout=30))
print("feasible custom", ray.get(work.options(resources={"present": 1}).remote(10), timeout=30))

try:
    ray.get(missing_custom, timeout=1)
except Exception as e:
    print("get infeasible", type(e).__name__)

ready, not_ready = ray.wait(pending, num_returns=len(pending), timeout=0)
print("still pending", len(ready), len(not_ready))

for ref in pending:
    ray.cancel(ref)
names = []
for ref in pending:
    try:
        ray.get(ref, timeout=30)
        names.append("value")
    except Exception as e:
        names.append(type(e).__name__)
print("after cancel", names)

ray.shutdown()
