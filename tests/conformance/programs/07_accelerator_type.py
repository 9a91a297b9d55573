"""accelerator_type: a node with resource accelerator_type:A100 runs A100 tasks (which get a tiny slice of
that resource); a V100 task stays pending and can be cancelled."""
# Keep Ray's autoscaler notices about infeasible tasks off stdout (must be set before import).
import os

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402
from ray.util.accelerators import NVIDIA_A100, NVIDIA_TESLA_V100  # noqa: E402

ray.init(num_cpus=2, num_gpus=1, resources={"accelerator_type:A100": 1}, include_dashboard=False)


def mine(res):
    return sorted((k, v) for k, v in res.items() if k in ("CPU", "GPU") or k.startswith("accelerator_type:"))


print("constants", NVIDIA_A100, NVIDIA_TESLA_V100)
print("cluster", mine(ray.cluster_resources()))
print("node keys", len(ray.nodes()), mine(ray.nodes()[0]["Resources"]))


@ray.remote(num_gpus=1, accelerator_type=NVIDIA_A100)
def on_a100():
    ctx = ray.get_runtime_context()
    return sorted(ctx.get_assigned_resources().items())


print("a100 assigned", ray.get(on_a100.remote(), timeout=30))


@ray.remote(num_cpus=1, accelerator_type=NVIDIA_A100)
def cpu_on_a100():
    return sorted(ray.get_runtime_context().get_assigned_resources().items())


print("a100 cpu-only assigned", ray.get(cpu_on_a100.remote(), timeout=30))

v100_ref = on_a100.options(accelerator_type=NVIDIA_TESLA_V100).remote()
ready, not_ready = ray.wait([v100_ref], timeout=2)
print("v100 ready", len(ready), "pending", len(not_ready))
ray.cancel(v100_ref)
try:
    ray.get(v100_ref, timeout=30)
    print("v100 no error")
except Exception as e:
    print("v100 cancelled", type(e).__name__, isinstance(e, ray.exceptions.TaskCancelledError))

ray.shutdown()
