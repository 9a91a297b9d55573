"""ray.cancel(force=True) of a running task kills its worker and ray.get raises TaskCancelledError;
ray.cancel on an actor task with force=True raises ValueError; without force an actor task can be cancelled."""
import os
import time

os.environ["RAY_SCHEDULER_EVENTS"] = "0"
os.environ["RAY_enable_output_error_log_if_still_retry"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def loop(n):
    for _ in range(n):
        time.sleep(0.1)
    return "loop finished"


@ray.remote
def hard_sleep():
    time.sleep(300)  # C-level sleep: only force=True can stop it promptly
    return "slept"


ray.get(loop.remote(1))  # warm up a worker

r = loop.remote(600)
time.sleep(2)
ray.cancel(r, force=True)
try:
    ray.get(r, timeout=60)
    print("force loop value")
except Exception as e:
    print("force loop", type(e).__name__, isinstance(e, ray.exceptions.TaskCancelledError),
          isinstance(e, ray.exceptions.RayTaskError))

h = hard_sleep.remote()
time.sleep(2)
start = time.time()
ray.cancel(h, force=True)
try:
    ray.get(h, timeout=60)
    print("force sleep value")
except Exception as e:
    print("force sleep", type(e).__name__, "fast", time.time() - start < 20)

# Killing those workers does not harm the cluster.
print("cluster still works", ray.get(loop.remote(2), timeout=60))


@ray.remote
class A:
    def ready(self):
        return True

    def work(self, n):
        for _ in range(n):
            time.sleep(0.1)
            if ray.get_runtime_context().is_canceled():
                return "saw cancel flag"
        return "work finished"


a = A.remote()
ray.get(a.ready.remote())
t = a.work.remote(300)
time.sleep(1)
try:
    ray.cancel(t, force=True)
    print("actor force cancel accepted")
except Exception as e:
    print("actor force cancel", type(e).__name__)

# force=False on a running sync actor task only sets the cancel flag (the method checks it and
# returns), yet ray.get raises TaskCancelledError rather than returning the method's value.
ray.cancel(t)
try:
    print("actor task", ray.get(t, timeout=60))
except Exception as e:
    print("actor task", type(e).__name__)
print("actor alive", ray.get(a.ready.remote(), timeout=60))

ray.shutdown()
