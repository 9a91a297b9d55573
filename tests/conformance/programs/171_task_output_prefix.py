"""Task and actor output on the driver: each line a task or actor prints comes out prefixed
`(name pid=N)` (the prefix in cyan, tty or not), stderr on the driver's stderr; an actor's lines
carry its class name, or its repr once __init__ returned if the class defines __repr__; the pid
is the worker's os.getpid(); RAY_COLOR_PREFIX=0 drops the colour, =1 colours by pid.

Ray forwards worker output asynchronously, so the driver waits until each line has arrived
before printing its own; pids differ from run to run, so lines are shown with pid=N.
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

    def flush(self):
        self.target.flush()

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

ray.init(num_cpus=2, include_dashboard=False)


# Ray folds a line that another worker printed a moment ago (words with digits ignored) into
# "[repeated Nx across cluster]": every line here is told apart by words, not numbers.
@ray.remote
def hello(tag):
    print(f"hello from the {tag} task")
    print(f"a {tag} warning on stderr", file=sys.stderr)
    print("")
    print(f"two lines from {tag}\nin one print from {tag}")
    return os.getpid()


pid = ray.get(hello.remote("first"))
out.wait_for("in one print from first\n")
err.wait_for("a first warning on stderr\n")
print("task prefix is the task's pid:", f"(hello pid={pid})" in out.raw)
print("stderr got:", [line for line in err.raw.splitlines() if "warning" in line])

ray.get(hello.options(name="renamed_task").remote("renamed"))
out.wait_for("in one print from renamed\n")
err.wait_for("a renamed warning on stderr\n")


@ray.remote
class Plain:
    def __init__(self):
        print("plain constructor")

    def work(self):
        print("plain method")
        return os.getpid()


@ray.remote
class Shown:
    def __init__(self, tag):
        print("shown constructor")
        self.tag = tag

    def __repr__(self):
        return f"Shown[{self.tag}]"

    def work(self):
        print("shown method")
        return os.getpid()


p = Plain.remote()
actor_pid = ray.get(p.work.remote())
out.wait_for("plain method\n")
print("actor prefix is the actor's pid:", f"(Plain pid={actor_pid})" in out.raw)
s = Shown.remote("x")
ray.get(s.work.remote())
out.wait_for("shown method\n")

os.environ["RAY_COLOR_PREFIX"] = "0"
ray.get(hello.options(name="plain_prefix").remote("uncoloured"))
out.wait_for("in one print from uncoloured\n")
err.wait_for("a uncoloured warning on stderr\n")


@ray.remote
def note():
    print("a note on stderr only", file=sys.stderr)
    return os.getpid()


# Coloured by pid: on stderr only, so that stdout does not depend on the pid.
os.environ["RAY_COLOR_PREFIX"] = "1"
colour_pid = ray.get(note.remote())
err.wait_for("a note on stderr only\n")
colours = ["\x1b[35m", "\x1b[36m", "\x1b[32m", "\x1b[90m", "\x1b[94m", "\x1b[95m"]
print(
    "RAY_COLOR_PREFIX=1 colours by pid:",
    f"{colours[colour_pid % 6]}(note pid={colour_pid})\x1b[0m a note on stderr only" in err.raw,
)
ray.shutdown()
