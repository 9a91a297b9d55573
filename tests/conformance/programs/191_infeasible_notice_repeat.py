"""A request no node can hold, still queued, is reported again 35 s later (Ray's monitor reports a
request at most once per 30 s and clears that throttle after each 5 s update); a pending actor
is such a request, with the CPU it needs.

N counts seconds from `import ray`, which depends on the machine's load: lines are shown with
+Ns, and the program prints the gap between the two notices' N.
"""

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

    def seconds(self):
        """The +Ns of each notice about a request (`1m5s` is 65)."""
        found = re.findall(r"\(autoscaler \+(?:(\d+)h)?(?:(\d+)m)?(\d+)s\)\S* Error:", self.raw)
        return [int(h or 0) * 3600 + int(m or 0) * 60 + int(s) for h, m, s in found]


out = sys.stdout = Recorder(sys.stdout)
TAIL = ". Add suitable node types to this cluster to resolve this issue.\n"

import ray  # noqa: E402

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote(num_cpus=4)
class Big:
    def ping(self):
        return 1


big = Big.remote()
print("first notice:", out.wait_for(f"{{'CPU': 4.0}}{TAIL}"))
deadline = time.monotonic() + 70
while out.raw.count(f"{{'CPU': 4.0}}{TAIL}") < 2 and time.monotonic() < deadline:
    time.sleep(0.5)
first, second = (out.seconds() + [None, None])[:2]
print("second notice:", second is not None)
print("gap of 35 s (+-3):", second is not None and abs(second - first - 35) <= 3)
print("tips:", out.raw.count("Tip: use `ray status`"))
ray.kill(big)
ray.shutdown()
