"""Timing: 4 tasks sleeping 2 s on a 4-CPU cluster all run in parallel and take 2 s;
a fifth task makes it 4 s.

Durations are multiples of UNIT = 2 s and elapsed times are printed in UNITs, so a loaded
machine's overhead of up to a second cannot change a line."""
import sys
import time

import ray

UNIT = 2  # seconds

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
def nap(i, seconds=2):
    time.sleep(seconds * UNIT)
    return i


# Untimed warm-up so that four worker processes exist (starting four Python workers
# on a small machine takes a couple of seconds on real Ray).
ray.get([nap.remote(i, 1) for i in range(4)])

start = time.time()
print("results", ray.get([nap.remote(i) for i in range(4)]))
elapsed = time.time() - start
print("elapsed", round(elapsed / UNIT))
print("raw elapsed", elapsed, file=sys.stderr)

start = time.time()
print("results", ray.get([nap.remote(i) for i in range(5)]))
elapsed = time.time() - start
print("elapsed", round(elapsed / UNIT))
print("raw elapsed", elapsed, file=sys.stderr)

# num_cpus=3 tasks (1 s each) cannot overlap on 4 CPUs, but a num_cpus=1 task fits beside one.
start = time.time()
print("results", ray.get([nap.options(num_cpus=3).remote(0, 1), nap.options(num_cpus=3).remote(1, 1), nap.remote(2, 1)]))
elapsed = time.time() - start
print("elapsed", round(elapsed / UNIT))
print("raw elapsed", elapsed, file=sys.stderr)

ray.shutdown()
