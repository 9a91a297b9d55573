"""CUDA_VISIBLE_DEVICES inside tasks: a GPU task sees its ids joined by ","; a CPU-only task on a
GPU cluster sees it unset (Ray no longer sets it to "" when zero GPUs are assigned)."""
import os

import ray

ray.init(num_cpus=2, num_gpus=2, include_dashboard=False)


@ray.remote(num_gpus=0)
def cpu_only():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()


@ray.remote(num_gpus=1)
def one_gpu():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()


@ray.remote(num_gpus=2)
def two_gpus():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()


@ray.remote
def default_cpu():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()


print("cpu_only", ray.get(cpu_only.remote()))
print("default", ray.get(default_cpu.remote()))
env, ids = ray.get(one_gpu.remote())
print("one_gpu matches", env == ",".join(str(i) for i in ids), len(ids))
env, ids = ray.get(two_gpus.remote())
print("two_gpus matches", env == ",".join(str(i) for i in ids), sorted(ids))
# After GPU tasks have run (workers may be reused), CPU-only tasks still see no GPUs.
print("cpu_only after", ray.get(cpu_only.remote()))
print("default after", ray.get([default_cpu.remote() for _ in range(4)]))
print("driver env", os.environ.get("CUDA_VISIBLE_DEVICES"))

ray.shutdown()
