"""Infeasible demand: a little after requests no node can hold are queued (Ray's monitor updates
every 5 s), the driver prints on stdout, after a tip the first time, one autoscaler notice per
distinct request, `(autoscaler +Ns) Error: No available node types can fulfill resource request
{...}. ...`, most resource kinds first, then the largest total; equal requests share one
notice; a placement group no node can hold gets none.

The requests wait on one task's result, so they are queued at the same moment and come out in
one batch. N counts seconds from `import ray`, which depends on the machine's load: lines are
shown with +Ns. Ray's notice about a multi-resource request lists its resources in an order
that varies from cluster to cluster, so every request here holds one resource.
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


out = sys.stdout = Recorder(sys.stdout)
TAIL = ". Add suitable node types to this cluster to resolve this issue.\n"

import ray  # noqa: E402
from ray.util.placement_group import placement_group, remove_placement_group  # noqa: E402

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
def gate():
    time.sleep(1)
    return 0


@ray.remote
def work(x):
    return x


group = placement_group([{"CPU": 16}])  # no notice, ever
print("placement group pending:", group.wait(timeout_seconds=0) is False)
g = gate.remote()
refs = [
    work.options(num_cpus=0, num_gpus=1).remote(g),
    work.options(num_cpus=0, resources={"custom": 2}).remote(g),
    work.options(num_cpus=8).remote(g),
    work.options(num_cpus=8).remote(g),
]
print(
    "notices arrived:",
    out.wait_for(f"{{'GPU': 1.0}}{TAIL}") and out.wait_for(f"{{'CPU': 8.0}}{TAIL}"),
)
print("tips:", out.raw.count("Tip: use `ray status`"))
print("notices about the group:", out.raw.count("16.0"))
ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
print("ready:", len(ready))
for ref in refs:
    ray.cancel(ref)
remove_placement_group(group)
ray.shutdown()
