"""Fractional GPUs: two num_gpus=0.5 tasks running together on a 1-GPU cluster share GPU id 0,
and a third 0.5 task has to wait for one of them."""
import os
import sys
import time

import ray

ray.init(num_cpus=4, num_gpus=1, include_dashboard=False)


@ray.remote(num_gpus=0.5)
def half(delay):
    ids = ray.get_gpu_ids()
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    assigned = sorted(ray.get_runtime_context().get_assigned_resources().items())
    time.sleep(delay)
    return ids, env, assigned


start = time.time()
results = ray.get([half.remote(2), half.remote(2)])
elapsed = time.time() - start
for ids, env, assigned in results:
    print("half", ids, env, assigned)
print("shared elapsed", round(elapsed))
print("raw shared elapsed", elapsed, file=sys.stderr)

# Three half-GPU tasks of 2 s: only two fit at once, so it takes 4 s.
start = time.time()
results = ray.get([half.remote(2) for _ in range(3)])
elapsed = time.time() - start
print("three halves ids", sorted(r[0][0] for r in results))
print("three halves elapsed", round(elapsed))
print("raw three halves elapsed", elapsed, file=sys.stderr)


@ray.remote(num_gpus=0.25)
def quarter():
    return ray.get_gpu_ids(), sorted(ray.get_runtime_context().get_assigned_resources().items())


print("quarter", ray.get(quarter.remote()))

ray.shutdown()
