"""Ray's deduplication of worker output: a line that another worker printed within the last
5 s (words holding digits ignored) is held back and counted; the next line that reaches the
driver after those 5 s brings the count out, once, as `line [repeated Nx across cluster]`, with
Ray's note the first time. The same worker repeating itself is printed as it comes.

Each step waits for what it expects on the driver (Ray forwards output asynchronously); the one
margin is that the two repeats reach the driver within 5 s of the first line.
"""

import os
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

    def __getattr__(self, name):  # fileno, encoding, ...: the real stream's
        return getattr(self.target, name)

    def wait_for(self, needle, times=1, timeout=60):
        """Whether `needle` has come `times` times, waiting up to `timeout` s for it."""
        deadline = time.monotonic() + timeout
        while self.raw.count(needle) < times and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.raw.count(needle) >= times


out = sys.stdout = Recorder(sys.stdout)

import ray  # noqa: E402

ray.init(num_cpus=4, include_dashboard=False)


@ray.remote
class Echo:
    def say(self, text):
        print(text)
        return os.getpid()


a, b, c = Echo.remote(), Echo.remote(), Echo.remote()  # three actors: three processes
ray.get([e.__ray_ready__.remote() for e in (a, b, c)])

ray.get(a.say.remote("a line all three print, take 1"))
out.wait_for("take 1\n")
ray.get(b.say.remote("a line all three print, take 2"))  # held back: the digit aside, a's line
ray.get(c.say.remote("a line all three print, take 2"))
ray.get(a.say.remote("one worker repeating itself"))
ray.get(a.say.remote("one worker repeating itself"))
out.wait_for("one worker repeating itself\n", times=2)  # each line has its own prefix
time.sleep(7)  # past the 5 s window: the next line brings out what was held back
ray.get(a.say.remote("a later line"))
out.wait_for("a later line\n")
print("held back, then counted:", out.wait_for("[repeated 2x across cluster]"))
ray.shutdown()
