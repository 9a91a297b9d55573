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
        with self.lock:  # what wait_for has seen is on the real stream too
            self.raw += text
            shown = re.sub(r"\(autoscaler \+[0-9hm]+s\)", "(autoscaler +Ns)", text)
            return self.target.write(shown)

    def flush(self):
        self.target.flush()

    def __getattr__(self, name):  # fileno, encoding, ...: the real stream's
        return getattr(self.target, name)

    def wait_for(self, needle, timeout=60):
        """Wait until `needle` (ending a line: Ray writes the newline on its own) is out."""
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
TAIL = ". Add suitable node types to this cluster to resolve this issue.\n"
print("notice:", out.wait_for(f"{{'missing': 1.0}}{TAIL}"))
ray.cancel(ref)
ray.shutdown()
