"""ray.cancel of a task that is queued behind a running task on the only CPU: ray.get raises
TaskCancelledError, and the running task still completes."""
import os
import sys
import time

# Keep scheduler notices off stdout (must be set before import).
os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)


@ray.remote
def busy(seconds):
    time.sleep(seconds)
    return "busy done"


@ray.remote
def queued():
    return "queued ran"


start = time.time()
running = busy.remote(3)
time.sleep(1)  # let it start and take the CPU
waiting = queued.remote()
ready, _ = ray.wait([waiting], timeout=0.5)
print("queued ready before cancel", len(ready))
ray.cancel(waiting)
try:
    ray.get(waiting, timeout=30)
    print("no error")
except Exception as e:
    print("class", type(e).__name__)
    print("is TaskCancelledError", isinstance(e, ray.exceptions.TaskCancelledError))
    print("is RayError", isinstance(e, ray.exceptions.RayError))
    print("is RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
# ray.wait treats the cancelled task as ready.
ready, not_ready = ray.wait([waiting], timeout=0)
print("cancelled counts as ready", len(ready), len(not_ready))

print("running", ray.get(running, timeout=30))
elapsed = time.time() - start
# At least the 3 s of busy's sleep; how much more depends on worker start-up, so only the bound.
print("elapsed at least 3 s", elapsed >= 3)
print("raw elapsed", elapsed, file=sys.stderr)

# Cancelling twice, or cancelling a finished task, does not raise.
ray.cancel(waiting)
ray.cancel(running)
print("finished after cancel", ray.get(running))

# A task that depends on a cancelled one also fails.
@ray.remote
def downstream(x):
    return x


try:
    ray.get(downstream.remote(waiting), timeout=30)
except Exception as e:
    print("downstream", type(e).__name__, isinstance(e, ray.exceptions.TaskCancelledError))

ray.shutdown()
