"""ray.wait returns as soon as num_returns refs are ready, or when the timeout expires, whichever is first."""
import sys
import time

import ray

ray.init(num_cpus=3, num_gpus=0, include_dashboard=False)


@ray.remote
def nap(seconds):
    time.sleep(seconds)
    return seconds


# Untimed warm-up so that three worker processes exist before timing starts.
ray.get([nap.remote(2) for _ in range(3)])

# Tasks finish 1 s, 3 s and 5 s after submission; times below are measured from submission.
start = time.time()
refs = [nap.remote(1), nap.remote(3), nap.remote(5)]


def timed(label, fn):
    ready, not_ready = fn()
    since = time.time() - start
    print(label, len(ready), len(not_ready), "at", round(since))
    print("raw", label, since, file=sys.stderr)
    return ready


ready = timed("first one", lambda: ray.wait(refs, num_returns=1))
print("first ready value", ray.get(ready))
ready = timed("timeout 1", lambda: ray.wait(refs, num_returns=3, timeout=1))
print("ready values", ray.get(ready))
ready = timed("two of three", lambda: ray.wait(refs, num_returns=2))
print("ready values", ray.get(ready))
ready = timed("all", lambda: ray.wait(refs, num_returns=3, timeout=10))
print("ready values", ray.get(ready))

ray.shutdown()
