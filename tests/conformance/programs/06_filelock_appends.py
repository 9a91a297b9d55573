"""FileLock serialises read-modify-write across tasks in separate processes: 8 tasks x 5 appends
under a lock give 40 intact lines and a counter of 40."""
import os
import tempfile
import time

import ray
from filelock import FileLock

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)

workdir = tempfile.mkdtemp()
lock_path = os.path.join(workdir, "data.lock")
data_path = os.path.join(workdir, "data.txt")
counter_path = os.path.join(workdir, "counter.txt")
with open(counter_path, "w") as f:
    f.write("0")
open(data_path, "w").close()


@ray.remote
def writer(task_id, n):
    for i in range(n):
        with FileLock(lock_path):
            # read-modify-write of the whole data file, with a sleep in between
            with open(data_path) as f:
                content = f.read()
            with open(counter_path) as f:
                count = int(f.read())
            time.sleep(0.01)
            content += "task=%d line=%d seq=%d\n" % (task_id, i, count)
            with open(data_path, "w") as f:
                f.write(content)
            with open(counter_path, "w") as f:
                f.write(str(count + 1))
    return n


print("returned", sum(ray.get([writer.remote(t, 5) for t in range(8)])))
with open(data_path) as f:
    lines = f.read().splitlines()
print("lines", len(lines))
print("well formed", all(l.startswith("task=") and l.count("=") == 3 for l in lines))
# Sequence numbers (assigned under the lock) are exactly 0..39 in file order.
print("seq ok", [int(l.rsplit("=", 1)[1]) for l in lines] == list(range(40)))
print("per task", sorted({l.split()[0]: 0 for l in lines}.keys()) == ["task=%d" % t for t in range(8)])
print("per task counts", sorted(set(sum(1 for l in lines if l.startswith("task=%d " % t)) for t in range(8))))
with open(counter_path) as f:
    print("counter", f.read())

ray.shutdown()
