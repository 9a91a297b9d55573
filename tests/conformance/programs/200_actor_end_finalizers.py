"""What of an actor runs when its process ends (Ray 2.60): `ray.kill` is a SIGKILL, so neither
its `__del__` nor its atexit handlers run; `exit_actor()` (sync or async actor),
`__ray_terminate__` and going out of scope end the process gracefully: the instance is deleted
(`__del__` runs), then the atexit handlers, last registered first, each line printed with the
actor's `(Class pid=N)` prefix.

Ray forwards worker output asynchronously, so the driver waits until an actor's last line has
arrived before printing its own; pids differ from run to run, so lines are shown with pid=N.
Lines are told apart by words, not numbers (Ray folds repeated lines that differ only there).
"""

import atexit
import re
import sys
import threading
import time


class Recorder:
    """The driver's stdout: text goes through with pids shown as N, and is kept."""

    def __init__(self, target):
        self.target = target
        self.raw = ""
        self.lock = threading.Lock()

    def write(self, text):
        with self.lock:
            self.raw += text
        return self.target.write(re.sub(r"pid=\d+", "pid=N", text))

    def flush(self):
        self.target.flush()

    def __getattr__(self, name):
        return getattr(self.target, name)

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while needle not in self.raw and time.monotonic() < deadline:
            time.sleep(0.1)
        return needle in self.raw


out = sys.stdout = Recorder(sys.stdout)

import ray  # noqa: E402

ray.init(num_cpus=2, include_dashboard=False)


def last_line(error):
    return str(error).splitlines()[-1]


@ray.remote
class Resource:
    def __init__(self, tag):
        self.tag = tag
        atexit.register(print, f"first handler of {tag}", flush=True)
        atexit.register(print, f"second handler of {tag}", flush=True)

    def ping(self):
        return self.tag

    def leave(self):
        ray.actor.exit_actor()

    def __del__(self):
        print(f"deleting {self.tag}", flush=True)


@ray.remote
class AsyncResource:
    def __init__(self, tag):
        self.tag = tag
        atexit.register(print, f"handler of {tag}", flush=True)

    async def ping(self):
        return self.tag

    async def leave(self):
        ray.actor.exit_actor()

    def __del__(self):
        print(f"deleting {self.tag}", flush=True)


# ray.kill: the process is gone at once, nothing of it runs.
killed = Resource.remote("killed")
print(ray.get(killed.ping.remote()))
ray.kill(killed)
while True:  # ray.kill returns before the process is gone: a call may still get through
    try:
        ray.get(killed.ping.remote())
    except ray.exceptions.ActorDiedError as e:
        print("after ray.kill:", type(e).__name__, last_line(e))
        break

# exit_actor() in a sync actor: its caller gets ActorDiedError; __del__, then the handlers.
leaver = Resource.remote("leaver")
print(ray.get(leaver.ping.remote()))
try:
    ray.get(leaver.leave.remote())
except ray.exceptions.ActorDiedError as e:
    error = e
out.wait_for("first handler of leaver\n")
print("after exit_actor:", type(error).__name__, last_line(error))

# exit_actor() in an async actor: the same.
aleaver = AsyncResource.remote("async leaver")
print(ray.get(aleaver.ping.remote()))
try:
    ray.get(aleaver.leave.remote())
except ray.exceptions.ActorDiedError as e:
    error = e
out.wait_for("handler of async leaver\n")
# Ray's detail here depends on which of two notices of the exit comes first.
print(
    "after async exit_actor:",
    type(error).__name__,
    last_line(error).split(" Worker exit detail")[0],
)

# __ray_terminate__: queued behind the calls before it, then a graceful exit.
ended = Resource.remote("terminated")
print(ray.get(ended.ping.remote()))
ended.__ray_terminate__.remote()
out.wait_for("first handler of terminated\n")
try:
    ray.get(ended.ping.remote())
except ray.exceptions.ActorDiedError as e:
    print("after __ray_terminate__:", type(e).__name__, last_line(e))

# Out of scope: the last handle goes, the process exits gracefully.
dropped = Resource.remote("dropped")
print(ray.get(dropped.ping.remote()))
del dropped
out.wait_for("first handler of dropped\n")
print("after the last handle went: its lines came")

print("the killed actor printed:", "of killed" in out.raw)
ray.shutdown()
