"""An actor (max_restarts=0) whose method calls os._exit(1): that call and all later calls raise
ActorDiedError, a RayActorError; other actors are unaffected."""
import sys

# Real Ray prints a "(raylet) A worker died or was killed ..." notice (with ids and pids) on the
# driver's sys.stdout whenever a worker process dies, and no setting turns it off. So this program
# writes its own lines to the original stdout and points sys.stdout at stderr.
OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import os

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Fragile:
    def ping(self):
        return "pong"

    def die(self):
        os._exit(1)


f = Fragile.remote()
other = Fragile.remote()
emit("before", ray.get(f.ping.remote()), ray.get(other.ping.remote()))
for label, ref in (("dying call", f.die.remote()), ("later call", f.ping.remote()),
                   ("another later call", f.ping.remote())):
    try:
        emit(label, ray.get(ref, timeout=60))
    except Exception as e:
        emit(label, type(e).__name__,
              isinstance(e, ray.exceptions.RayActorError),
              isinstance(e, ray.exceptions.RayTaskError),
              "ray.kill" in str(e))
emit("other actor", ray.get(other.ping.remote()))


# A task that uses the dead actor gets the actor error through its own ray.get.
@ray.remote
def use(actor):
    try:
        ray.get(actor.ping.remote())
        return "ok"
    except ray.exceptions.RayActorError as e:
        return type(e).__name__


emit("from task", ray.get(use.remote(f)))

ray.shutdown()
