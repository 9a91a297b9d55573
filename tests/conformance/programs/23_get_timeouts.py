"""ray.get timeouts: GetTimeoutError (also a TimeoutError) after about the timeout, timeout=0 on an
unfinished task fails at once, and the task still completes afterwards."""
import sys
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def slow(x, seconds):
    time.sleep(seconds)
    return x


ref = slow.remote("late", 5)
start = time.time()
try:
    ray.get(ref, timeout=1)
    print("no timeout")
except Exception as e:
    elapsed = time.time() - start
    print("class", type(e).__name__)
    print("is GetTimeoutError", isinstance(e, ray.exceptions.GetTimeoutError))
    print("is TimeoutError", isinstance(e, TimeoutError))
    print("is RayError", isinstance(e, ray.exceptions.RayError))
    print("is RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
    print("elapsed", round(elapsed))
    print("raw elapsed", elapsed, file=sys.stderr)

start = time.time()
try:
    ray.get(ref, timeout=0)
    print("no timeout")
except ray.exceptions.GetTimeoutError as e:
    elapsed = time.time() - start
    print("timeout=0", type(e).__name__, round(elapsed))

# A list get times out as a whole if any element is unfinished.
done = slow.remote("early", 0)
ray.get(done)
try:
    ray.get([done, ref], timeout=0.5)
except TimeoutError as e:
    print("list timeout", type(e).__name__)

# The task is unaffected by the driver's timeouts.
print("eventually", ray.get(ref, timeout=30))
# A finished task with timeout=0 returns immediately.
print("finished timeout=0", ray.get(ref, timeout=0))

# A negative timeout is not rejected by ray.get (unlike ray.wait): it waits for the value.
try:
    print("negative timeout", ray.get(slow.remote(1, 1), timeout=-1))
except Exception as e:
    print("negative timeout", type(e).__name__)

ray.shutdown()
