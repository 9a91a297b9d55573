"""ray.actor.exit_actor() in sync, threaded and async actors: the caller of the exiting method
gets ActorDiedError, later calls get it too, the actor is not restarted even with max_restarts,
atexit handlers run; exit_actor outside an actor is a TypeError."""
import atexit
import os
import time

import ray
from ray._common.test_utils import SignalActor
from ray.actor import exit_actor

ray.init(num_cpus=4, include_dashboard=False)


@ray.remote(max_restarts=2)
class Sync:
    def __init__(self):
        self.calls = 0

    def ping(self):
        self.calls += 1
        return self.calls

    def leave(self):
        exit_actor()
        return "not reached"


@ray.remote(max_concurrency=3)
class Threaded:
    def ping(self):
        return "pong"

    def slow(self, started):
        ray.get(started.send.remote())
        time.sleep(3)
        return "slow call finished"

    def leave(self):
        exit_actor()


@ray.remote
class Async:
    async def ping(self):
        return "apong"

    async def leave(self):
        exit_actor()


@ray.remote
class WithAtexit:
    def __init__(self, path):
        atexit.register(self.goodbye, path)

    def goodbye(self, path):
        with open(path, "w") as f:
            f.write("atexit handler ran")

    def leave(self):
        exit_actor()


def outcome(ref):
    try:
        return repr(ray.get(ref, timeout=60))
    except ray.exceptions.ActorDiedError as e:
        return f"ActorDiedError is RayActorError={isinstance(e, ray.exceptions.RayActorError)}"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


for name, cls in (("Sync", Sync), ("Threaded", Threaded), ("Async", Async)):
    a = cls.remote()
    print(name, "ping:", outcome(a.ping.remote()))
    print(name, "leave:", outcome(a.leave.remote()))
    print(name, "later:", outcome(a.ping.remote()))
    print(name, "later again:", outcome(a.ping.remote()))

started = SignalActor.remote()
t = Threaded.remote()
slow = t.slow.remote(started)
ray.get(started.wait.remote())
print("Threaded leave while a call runs:", outcome(t.leave.remote()))
print("Threaded running call:", outcome(slow))

path = os.path.abspath("atexit_marker.txt")
w = WithAtexit.remote(path)
print("WithAtexit leave:", outcome(w.leave.remote()))
for _ in range(300):  # the handler opens the file before it writes: wait for the text
    if os.path.exists(path) and open(path).read():
        break
    time.sleep(0.1)
with open(path) as f:
    print("WithAtexit:", f.read())

try:
    exit_actor()
except TypeError as e:
    print("driver:", type(e).__name__, "non-actor" in str(e))


@ray.remote
def task():
    try:
        exit_actor()
    except TypeError as e:
        return f"task: TypeError {'non-actor' in str(e)}"


print(ray.get(task.remote()))
ray.shutdown()
