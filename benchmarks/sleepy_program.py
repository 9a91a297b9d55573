"""A small sleep-dominated Ray program: what a unit test of Ray code typically waits for."""

import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def work(i):
    time.sleep(1)
    return i


@ray.remote
def parent(n):
    return sum(ray.get([work.remote(i) for i in range(n)]))


start = time.monotonic()
print(ray.get([work.remote(i) for i in range(8)]))
print("8 tasks of 1 s on 2 CPUs took", round(time.monotonic() - start), "s")
print(ray.get(parent.remote(4)))
ready, rest = ray.wait([work.remote(i) for i in range(4)], num_returns=2, timeout=10)
print(len(ready), len(rest))
ray.shutdown()
