"""Tasks submitted and never waited on still run when the driver ends normally: each appends to a
file, which an exit handler (registered before init, so it runs after Ray's shutdown) reads."""

import atexit
import os
import sys
import tempfile

path = os.path.join(tempfile.mkdtemp(), "ran.txt")


def report():
    with open(path) as f:
        print("ran after the driver ended:", sorted(f.read().split()))
    sys.stdout.flush()


atexit.register(report)

import ray  # noqa: E402

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)


@ray.remote
def f(i):
    with open(path, "a") as out:
        out.write(f"{i}\n")


open(path, "w").close()
for i in range(3):
    f.remote(i)
print("driver done")
