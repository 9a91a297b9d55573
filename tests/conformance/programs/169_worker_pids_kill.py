"""Worker identity: os.getpid() in a task or actor is its worker's pid, not the driver's; an
actor's pid is stable across calls; os.kill(pid, SIGKILL) of an actor's pid kills that actor
(ActorDiedError after), and a task that SIGKILLs itself is a worker crash."""
import sys

# Real Ray prints a "(raylet) A worker died or was killed ..." notice (with ids and pids) on the
# driver's sys.stdout whenever a worker process dies, and no setting turns it off. So this program
# writes its own lines to the original stdout and points sys.stdout at stderr.
OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import os  # noqa: E402
import signal  # noqa: E402

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def pid():
    return os.getpid()


@ray.remote(max_retries=0)
def kill_myself():
    os.kill(os.getpid(), signal.SIGKILL)
    return "still here"


@ray.remote(max_restarts=0)
class A:
    def pid(self):
        return os.getpid()


emit("task pid differs from the driver's", ray.get(pid.remote()) != os.getpid())
a, b = A.remote(), A.remote()
first = ray.get(a.pid.remote())
emit("actor pid stable", first == ray.get(a.pid.remote()))
emit("two actors, two pids", first != ray.get(b.pid.remote()))
emit("actor pid differs from the driver's", first != os.getpid())
os.kill(first, signal.SIGKILL)
try:
    ray.get(a.pid.remote(), timeout=60)
    emit("killed actor answered")
except ray.exceptions.RayActorError as e:
    emit("killed actor:", type(e).__name__)
emit("other actor alive", ray.get(b.pid.remote()) != first)
try:
    emit(ray.get(kill_myself.remote(), timeout=60))
except Exception as e:
    emit("task that killed itself:", type(e).__name__)
ray.shutdown()
