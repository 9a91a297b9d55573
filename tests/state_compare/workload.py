"""A fixed Ray workload whose `ray.util.state` answers `tests/test_state_vs_ray.py` compares
between sim and real Ray 2.60: it prints one JSON document (field names, value types, the
rows' shape and the summaries) once the cluster has settled into a known state."""

import json
import os
import time

import ray
from ray.util.placement_group import placement_group
from ray.util.state import (
    list_actors,
    list_jobs,
    list_nodes,
    list_objects,
    list_placement_groups,
    list_tasks,
    list_workers,
    summarize_actors,
    summarize_objects,
    summarize_tasks,
)

ray.init(num_cpus=2)
os.environ["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address  # name our cluster


@ray.remote
class Gate:
    def __init__(self):
        import asyncio

        self.event = asyncio.Event()

    async def wait(self):
        await self.event.wait()

    async def open(self):
        self.event.set()


@ray.remote
def ok(x):
    return x


@ray.remote(max_retries=0)
def bad():
    raise ValueError("no")


@ray.remote(num_cpus=0)
def blocked(gate):
    ray.get(gate.wait.remote())
    return 1


@ray.remote
class Counter:
    def ping(self):
        return 1


gate = Gate.options(name="gate").remote()
pg = placement_group([{"CPU": 0.5}], strategy="PACK", name="pg")
ray.get(pg.ready())
ray.get([ok.remote(i) for i in range(3)])
failed = bad.remote()
try:
    ray.get(failed)
except ValueError:
    pass
alive = Counter.options(name="alive").remote()
ray.get(alive.ping.remote())
dead = Counter.options(name="dead").remote()
ray.get(dead.ping.remote())
ray.kill(dead)
kept = ray.put(b"x" * 10)
running = blocked.remote(gate)

EXPECTED_TASKS = {
    ("ok", "FINISHED"): 3,
    ("bad", "FAILED"): 1,
    ("blocked", "RUNNING"): 1,
    ("Counter.ping", "FINISHED"): 2,
    ("Gate.wait", "RUNNING"): 1,
}


def settled():
    rows = list_tasks(limit=1000)
    counts = {}
    for t in rows:
        counts[(t.func_or_class_name, t.state)] = counts.get((t.func_or_class_name, t.state), 0) + 1
    tasks_done = all(counts.get(k, 0) == n for k, n in EXPECTED_TASKS.items())
    actors = {(a.name, a.state) for a in list_actors()}
    return tasks_done and ("dead", "DEAD") in actors and ("gate", "ALIVE") in actors


deadline = time.time() + 120
while not settled():
    assert time.time() < deadline, "the cluster did not settle"
    time.sleep(0.5)


def kinds(rows):
    """Each field's value types over all rows (a str enum counts as str)."""
    seen = {}
    for row in rows:
        for k, v in vars(row).items():
            name = "str" if isinstance(v, str) else type(v).__name__
            seen.setdefault(k, set()).add(name)
    return {k: sorted(v) for k, v in sorted(seen.items())}


def describe(lister):
    rows = lister(limit=1000)
    detailed = lister(limit=1000, detail=True)
    return {
        "fields": sorted(vars(rows[0])) if rows else [],
        "fields_detail": sorted(vars(detailed[0])) if detailed else [],
        "types": kinds(detailed),
        "rows": detailed,
    }


out = {}
tasks = describe(list_tasks)
out["tasks"] = {
    **{k: v for k, v in tasks.items() if k != "rows"},
    "shape": sorted([t.func_or_class_name, t.type, t.state, t.error_type] for t in tasks["rows"]),
}
actors = describe(list_actors)
out["actors"] = {
    **{k: v for k, v in actors.items() if k != "rows"},
    "shape": sorted([a.class_name, a.name, a.state, a.is_detached] for a in actors["rows"]),
}
nodes = describe(list_nodes)
out["nodes"] = {
    **{k: v for k, v in nodes.items() if k != "rows"},
    "shape": sorted([n.is_head_node, n.state] for n in nodes["rows"]),
}
pgs = describe(list_placement_groups)
out["placement_groups"] = {
    **{k: v for k, v in pgs.items() if k != "rows"},
    "shape": sorted([p.name, p.state, len(p.bundles)] for p in pgs["rows"]),
}
objects = describe(list_objects)
mine = {kept.hex(): "kept", running.hex(): "running", failed.hex(): "failed"}
out["objects"] = {
    **{k: v for k, v in objects.items() if k != "rows"},
    "shape": sorted(
        [mine[o.object_id], o.type, o.reference_type, o.task_status]
        for o in objects["rows"]
        if o.object_id in mine
    ),
}
workers = describe(list_workers)
out["workers"] = {
    **{k: v for k, v in workers.items() if k != "rows"},
    "shape": sorted(
        [w.worker_type, w.is_alive] for w in workers["rows"] if w.worker_type == "DRIVER"
    ),
}
jobs = describe(list_jobs)
out["jobs"] = {
    **{k: v for k, v in jobs.items() if k != "rows"},
    "shape": sorted([j.type, j.status] for j in jobs["rows"]),
}
tasks_summary = summarize_tasks()["cluster"]
out["summarize_tasks"] = {
    "keys": sorted(tasks_summary),
    "entry_keys": sorted(next(iter(tasks_summary["summary"].values()))),
    "mine": {
        name: tasks_summary["summary"][name]["state_counts"]
        for name in ("ok", "bad", "blocked", "Counter.ping")
    },
    "summary_by": tasks_summary["summary_by"],
}
actors_summary = summarize_actors()["cluster"]
out["summarize_actors"] = {
    "keys": sorted(actors_summary),
    "entry_keys": sorted(next(iter(actors_summary["summary"].values()))),
    "mine": actors_summary["summary"]["Counter"]["state_counts"],
    "summary_by": actors_summary["summary_by"],
}
objects_summary = summarize_objects()["cluster"]
out["summarize_objects"] = {
    "keys": sorted(objects_summary),
    "entry_keys": sorted(next(iter(objects_summary["summary"].values()))),
    "summary_by": objects_summary["summary_by"],
    "callsite_enabled": objects_summary["callsite_enabled"],
}
print(json.dumps(out, sort_keys=True))
ray.get(gate.open.remote())
ray.get(running)
ray.shutdown()
