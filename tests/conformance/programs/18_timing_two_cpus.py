"""Timing: 8 tasks sleeping 1 s on a 2-CPU cluster run two at a time and take 4 s in total.

Durations are multiples of UNIT = 2 s and elapsed times are printed in UNITs, so a loaded
machine's overhead of up to a second cannot change a line."""
import sys
import time

import ray

UNIT = 2  # seconds

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def nap(i):
    time.sleep(UNIT)
    return i


@ray.remote
def warm():
    time.sleep(2)


# Untimed warm-up: two overlapping 2 s tasks make Ray start both workers before the clock runs
# (a loaded machine can otherwise add a second of worker start-up to the first batch).
ray.get([warm.remote() for _ in range(2)])

start = time.time()
print("results", ray.get([nap.remote(i) for i in range(8)]))
elapsed = time.time() - start
print("elapsed", round(elapsed / UNIT))
print("raw elapsed", elapsed, file=sys.stderr)

# num_cpus=2 tasks on the same cluster run one at a time: 3 x 1 s = 3 s.
start = time.time()
print("results", ray.get([nap.options(num_cpus=2).remote(i) for i in range(3)]))
elapsed = time.time() - start
print("elapsed", round(elapsed / UNIT))
print("raw elapsed", elapsed, file=sys.stderr)

ray.shutdown()
