"""`ray.init(log_to_driver=False)`: what tasks and actors print (stdout and stderr) does not reach
the driver at all; a later session with the default forwards it again, prefixed.

Absence is shown by waiting a few seconds: with log_to_driver=False nothing is ever forwarded,
so the result does not depend on how long the wait is.
"""

import os
import re
import sys
import threading
import time


class Recorder:
    """The driver's stdout or stderr: text goes through with pids shown as N, and is kept."""

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

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while needle not in self.raw and time.monotonic() < deadline:
            time.sleep(0.1)
        return needle in self.raw


out = sys.stdout = Recorder(sys.stdout)
err = sys.stderr = Recorder(sys.stderr)

import ray  # noqa: E402

ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)


@ray.remote
def chatty(tag):
    print(f"{tag} task says hello")
    print(f"{tag} task complains", file=sys.stderr)
    return os.getpid()


@ray.remote
class Talker:
    def talk(self):
        print("the actor talks")
        return "talked"


pid = ray.get(chatty.remote("silenced"))
print(ray.get(Talker.remote().talk.remote()))
time.sleep(5)
print("task output on the driver:", "silenced task" in out.raw + err.raw)
print("actor output on the driver:", "the actor talks" in out.raw)
print("the task still ran in its own process:", pid != os.getpid())
ray.shutdown()

ray.init(num_cpus=2, include_dashboard=False)
ray.get(chatty.remote("forwarded"))
print("a new session forwards again:", out.wait_for("forwarded task says hello\n"))
err.wait_for("forwarded task complains\n")
ray.shutdown()
