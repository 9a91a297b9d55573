"""ray.cancel of a running task (Python loop of short sleeps) makes ray.get raise
RayTaskError(TaskCancelledError); a pending task gives TaskCancelledError; a finished task keeps its value."""
import os
import sys
import time

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)


@ray.remote
def loop(n):
    for _ in range(n):
        time.sleep(0.1)
    return "loop finished"


@ray.remote
def quick():
    return "quick"


def describe(label, ref):
    try:
        print(label, "value", ray.get(ref, timeout=60))
    except Exception as e:
        print(label, type(e).__name__,
              "TaskCancelledError", isinstance(e, ray.exceptions.TaskCancelledError),
              "RayTaskError", isinstance(e, ray.exceptions.RayTaskError))


# Warm up the worker so that the running task is really running when cancelled.
print("warm", ray.get(quick.remote()))

running = loop.remote(600)
pending = quick.remote()  # queued behind the running task on the only CPU
time.sleep(2)
ready, _ = ray.wait([running, pending], num_returns=2, timeout=0)
print("ready before cancel", len(ready))
start = time.time()
ray.cancel(running)
describe("running", running)
elapsed = time.time() - start
print("cancelled quickly", elapsed < 5)
print("raw cancel elapsed", elapsed, file=sys.stderr)
# The queued task now runs on the freed CPU.
print("queued after cancel", ray.get(pending, timeout=60))

# Cancel a pending task (queued behind another running one).
blocker = loop.remote(20)
queued = quick.remote()
time.sleep(0.5)
ray.cancel(queued)
describe("pending", queued)
print("blocker", ray.get(blocker, timeout=60))

# Cancel a finished task: no effect, the value is still returned.
done = quick.remote()
print("done", ray.get(done))
ray.cancel(done)
describe("finished", done)

# The worker is usable again after a cancel.
print("after", ray.get(loop.remote(3), timeout=60))
ray.shutdown()
