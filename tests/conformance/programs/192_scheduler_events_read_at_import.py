"""Ray reads RAY_SCHEDULER_EVENTS when `ray` is imported: setting it to 0 afterwards does not
turn the autoscaler's notices off (conformance programs with infeasible work set it before).

N counts seconds from `import ray`, which depends on the machine's load: lines are shown with
+Ns.
"""

import os
import re
import sys
import threading
import time


class Recorder:
    """The driver's stdout: text goes through with the autoscaler's +Ns shown as +Ns."""

    def __init__(self, target):
        self.target = target
        self.raw = ""
        self.lock = threading.Lock()

    def write(self, text):
        with self.lock:
            self.raw += text
        return self.target.write(re.sub(r"\(autoscaler \+[0-9hm]+s\)", "(autoscaler +Ns)", text))

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

import ray  # noqa: E402

os.environ["RAY_SCHEDULER_EVENTS"] = "0"
ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
def work():
    return 1


ref = work.options(num_cpus=0, resources={"missing": 1}).remote()
print("notice:", out.wait_for("{'missing': 1.0}"))
ray.cancel(ref)
ray.shutdown()
