"""On a 2-GPU cluster, two concurrently running num_gpus=1 tasks get distinct GPU ids,
and CUDA_VISIBLE_DEVICES inside each task matches its ids."""
import os
import tempfile
import time

import ray

ray.init(num_cpus=4, num_gpus=2, include_dashboard=False)

workdir = tempfile.mkdtemp()


def rendezvous(name, expected):
    # Wait until `expected` tasks have arrived, so that they provably run at the same time.
    open(os.path.join(workdir, name), "w").close()
    deadline = time.time() + 60
    while len(os.listdir(workdir)) < expected and time.time() < deadline:
        time.sleep(0.05)
    return len(os.listdir(workdir)) >= expected


@ray.remote(num_gpus=1)
def gpu_task(name):
    ids = ray.get_gpu_ids()
    acc = ray.get_runtime_context().get_accelerator_ids()["GPU"]
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    met = rendezvous(name, 2)
    return ids, acc, env, met


print("cluster GPU", ray.cluster_resources().get("GPU"))
results = ray.get([gpu_task.remote("a"), gpu_task.remote("b")])
print("ran together", [r[3] for r in results])
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
