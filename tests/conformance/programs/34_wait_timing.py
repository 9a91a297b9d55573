"""ray.wait returns as soon as num_returns refs are ready, or when the timeout expires, whichever is first.

Durations are multiples of UNIT = 2 s and elapsed times are printed in UNITs, so a loaded
machine's overhead of up to a second cannot change a line."""
import sys
import time

import ray

UNIT = 2  # seconds

ray.init(num_cpus=3, num_gpus=0, include_dashboard=False)


@ray.remote
def nap(seconds):
    time.sleep(seconds * UNIT)
    return seconds


# Untimed warm-up so that three worker processes exist before timing starts.
ray.get([nap.remote(1) for _ in range(3)])

# Tasks finish 1, 3 and 5 UNITs after submission; times below are measured from submission.
start = time.time()
refs = [nap.remote(1), nap.remote(3), nap.remote(5)]


def timed(label, fn):
    ready, not_ready = fn()
    since = time.time() - start
    print(label, len(ready), len(not_ready), "at", round(since / UNIT))
    print("raw", label, since, file=sys.stderr)
    return ready


ready = timed("first one", lambda: ray.wait(refs, num_returns=1))
print("first ready value", ray.get(ready))
ready = timed("timeout 1", lambda: ray.wait(refs, num_returns=3, timeout=1 * UNIT))
print("ready values", ray.get(ready))
ready = timed("two of three", lambda: ray.wait(refs, num_returns=2))
print("ready values", ray.get(ready))
ready = timed("all", lambda: ray.wait(refs, num_returns=3, timeout=10 * UNIT))
print("ready values", ray.get(ready))

ray.shutdown()
