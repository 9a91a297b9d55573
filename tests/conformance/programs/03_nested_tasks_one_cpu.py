"""Nested tasks on a one-CPU cluster complete: a task blocked in ray.get releases its CPU (recursion depth 4)."""
import ray

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)


@ray.remote
def recurse(depth):
    if depth == 0:
        return [0]
    return [depth] + ray.get(recurse.remote(depth - 1))


print("recurse", ray.get(recurse.remote(4), timeout=60))


@ray.remote
def leaf(x):
    return x * x


@ray.remote
def fan_out(n):
    return sum(ray.get([leaf.remote(i) for i in range(n)]))


print("fan_out", ray.get(fan_out.remote(5), timeout=60))

ray.shutdown()
