"""ray.util.state objects: list_objects rows (owner and worker rows), reference types, task
status of the producing task, filters, limit, get_objects, summarize_objects."""

import os
import tempfile
import time

import ray
from ray.util.state import get_objects, list_objects, list_tasks, summarize_objects

ray.init(num_cpus=1, include_dashboard=True)
# The state API finds the cluster by address; name ours (other Ray instances may be running).
os.environ["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
gate = os.path.join(tempfile.mkdtemp(), "gate")


@ray.remote
def blocker(x, box):
    while not os.path.exists(gate):  # holds its CPU (a sleep does not give it back)
        time.sleep(0.05)
    return x


@ray.remote
def later(x):
    return x


@ray.remote
def fail():
    raise ValueError("no")


@ray.remote
class Counter:
    def ping(self):
        return 1


names = {}


def name(ref, label):
    names[ref.hex()] = label
    return ref


def size_class(size):
    return "-1" if size == -1 else ">1MB" if size > 1_000_000 else ">0"


def show(tag, rows):
    print("--", tag)
    handles = sum(1 for r in rows if r.reference_type == "ACTOR_HANDLE")
    print("actor handle rows:", handles)
    mine = sorted(
        (names[r.object_id], r.type, r.reference_type, r.task_status, size_class(r.object_size),
         r.call_site)
        for r in rows
        if r.object_id in names
    )
    for row in mine:
        print(*row)


small = name(ray.put("small"), "small")
big = name(ray.put(b"x" * 2_000_000), "big")
inner = name(ray.put(7), "inner")
outer = name(ray.put([inner]), "outer")
del inner
failed = name(fail.remote(), "failed")
try:
    ray.get(failed)
except ValueError:
    pass
counter = Counter.remote()
ray.get(counter.ping.remote())
running = name(blocker.remote(small, [outer]), "running")
deadline = time.time() + 60
while not list_tasks(filters=[("name", "=", "blocker"), ("state", "=", "RUNNING")]):
    assert time.time() < deadline
    time.sleep(0.1)
queued = name(later.remote(1), "queued")
waiting = name(later.remote(running), "waiting")
rows = list_objects()
show("while blocker runs", rows)
print("sorted by id:", [r.object_id for r in rows] == sorted(r.object_id for r in rows))
print("fields:", sorted(vars(rows[0])))
print("types:", sorted({(type(r.object_size).__name__, type(r.pid).__name__) for r in rows}))

with open(gate, "w"):
    pass
ray.get(waiting)
del running, queued, waiting
rows = list_objects()
show("after", rows)
print("limit 2:", len(list_objects(limit=2)))
captured = list_objects(filters=[("reference_type", "=", "CAPTURED_IN_OBJECT")])
print("captured:", [names.get(r.object_id) for r in captured])
print("driver rows == all:", len(list_objects(filters=[("type", "=", "DRIVER")])) == len(rows))
print("not local:", sorted(names[r.object_id] for r in list_objects(
    filters=[("reference_type", "!=", "LOCAL_REFERENCE"), ("reference_type", "!=", "ACTOR_HANDLE")])))
found = get_objects(big.hex())
print("get_objects:", len(found), type(found[0]).__name__, found[0].reference_type)
print("get_objects of nothing:", get_objects("ab" * 28))
summary = summarize_objects()["cluster"]
print("summary keys:", sorted(summary), summary["summary_by"], summary["callsite_enabled"])
print("summary total:", summary["total_objects"] == len(rows), sorted(summary["summary"]))
per = summary["summary"]["disabled"]
print("per key:", sorted(per), per["total_num_workers"], per["total_num_nodes"])
print("ref counts:", sorted(per["ref_type_counts"].items()))
print("big counted:", summary["total_size_mb"] > 1.9)
print("unnamed:", [(r.reference_type, r.task_status) for r in rows if r.object_id not in names])
ray.shutdown()
