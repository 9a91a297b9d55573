"""On a 2-GPU cluster, two concurrently running num_gpus=1 tasks get distinct GPU ids,
and CUDA_VISIBLE_DEVICES inside each task matches its ids."""
import os
import time

import ray

ray.init(num_cpus=4, num_gpus=2, include_dashboard=False)


@ray.remote(num_gpus=1)
def gpu_task():
    ids = ray.get_gpu_ids()
    acc = ray.get_runtime_context().get_accelerator_ids()["GPU"]
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    time.sleep(1.5)  # make sure both tasks overlap
    return ids, acc, env


print("cluster GPU", ray.cluster_resources().get("GPU"))
results = ray.get([gpu_task.remote(), gpu_task.remote()])
ids = [r[0] for r in results]
print("each gets one id", [len(i) for i in ids])
print("id types", sorted({type(i[0]).__name__ for i in ids}))
print("union of ids", sorted(i[0] for i in ids))
print("accelerator ids", sorted(r[1][0] for r in results), sorted({type(r[1][0]).__name__ for r in results}))
print("ids match accelerator ids", all([str(x) for x in r[0]] == r[1] for r in results))
print("env matches ids", all(r[2] == ",".join(str(x) for x in r[0]) for r in results))


@ray.remote(num_gpus=2)
def both():
    return sorted(ray.get_gpu_ids()), os.environ.get("CUDA_VISIBLE_DEVICES")


ids2, env2 = ray.get(both.remote())
print("num_gpus=2 ids", ids2)
print("num_gpus=2 env", sorted(env2.split(",")), sorted(env2.split(",")) == [str(x) for x in ids2])

# The driver itself has no assigned GPUs.
print("driver gpu ids", ray.get_gpu_ids())

ray.shutdown()
