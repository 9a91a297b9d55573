"""An actor with max_restarts=1, max_task_retries=1 whose method kills its process once: the actor is
restarted (__init__ runs again, state reset) and the failed call is retried and succeeds."""
import sys

# Real Ray prints a "(raylet) A worker died or was killed ..." notice (with ids and pids) on the
# driver's sys.stdout whenever a worker process dies, and no setting turns it off. So this program
# writes its own lines to the original stdout and points sys.stdout at stderr.
OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import os
import tempfile

os.environ["RAY_enable_output_error_log_if_still_retry"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)

workdir = tempfile.mkdtemp()


def bump(name):
    path = os.path.join(workdir, name)
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        return len(f.read())


def count(name):
    path = os.path.join(workdir, name)
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read())


@ray.remote(max_restarts=1, max_task_retries=1)
class Phoenix:
    def __init__(self):
        bump("init")
        self.calls = 0

    def ready(self):
        return True

    def incr(self):
        self.calls += 1
        return self.calls

    def crash_once(self):
        n = bump("crash_once")
        if n == 1:
            os._exit(1)
        return "succeeded on attempt %d" % n

    def crash_always(self):
        bump("crash_always")
        os._exit(1)


p = Phoenix.remote()
ray.get(p.ready.remote())
emit("calls before", ray.get(p.incr.remote()), ray.get(p.incr.remote()))
emit("crash_once", ray.get(p.crash_once.remote(), timeout=120))
emit("init runs", count("init"))
emit("state after restart", ray.get(p.incr.remote()))

# The one restart is used up: the next crash kills it for good.
try:
    ray.get(p.crash_always.remote(), timeout=120)
    emit("crash_always value")
except Exception as e:
    emit("crash_always", type(e).__name__, isinstance(e, ray.exceptions.RayActorError))
emit("crash_always attempts", count("crash_always"))
try:
    ray.get(p.incr.remote(), timeout=120)
except Exception as e:
    emit("after final death", type(e).__name__)
emit("init runs at end", count("init"))

ray.shutdown()
