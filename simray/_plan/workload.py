"""Workloads for `simray plan`: task groups from TOML, CSV traces (Philly, Alibaba, or a column
mapping), and simray traces replayed with their measured durations.

Every workload becomes a list of `Job`s: submit time, duration, request (a `packing.Pod`), and
an optional dependency on a group (its jobs are released when that group has finished).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simray._model.cluster_spec import Delay, SpecError, _delay, _number
from simray._plan.packing import MILLI, UNIT, Pod, custom_units

MIB = 1024 * 1024


@dataclass
class Job:
    job_id: int
    submit: float  # seconds (relative to the release of its group, if it has `after`)
    duration: float
    pod: Pod
    group: str = ""
    after: str | None = None


def pod_from_resources(source: str, key: str, res: Mapping[str, Any]) -> Pod:
    """A request from Ray-style resources: CPU, GPU (<= 1 a share, else whole), memory (bytes),
    and any other name as a custom resource (e.g. TPU = 4, special = 1), as in Ray's
    `resources={...}`."""
    custom: dict[str, float] = {}
    for name in sorted(set(res) - {"CPU", "GPU", "memory"}):
        if name == "object_store_memory":
            raise SpecError(
                f"{source}: {key}.object_store_memory: a task cannot ask for object store memory "
                "in Ray; drop it"
            )
        amount = _number(source, f"{key}.{name}", res[name])
        if amount < 0 or (amount and round(amount * UNIT) == 0):
            raise SpecError(
                f"{source}: {key}.{name} = {amount}: a resource quantity must be >= 0 with at "
                "most 4 decimals (Ray's precision of 0.0001)"
            )
        custom[name] = amount
    cpu = _number(source, f"{key}.CPU", res.get("CPU", 1 if "GPU" not in res else 0))
    gpu = _number(source, f"{key}.GPU", res.get("GPU", 0))
    mem = _number(source, f"{key}.memory", res.get("memory", 0))
    if gpu > 1 and gpu != int(gpu):
        raise SpecError(f"{source}: {key}.GPU = {gpu}: more than one GPU must be a whole number")
    extra = custom_units(custom)
    if 0 < gpu <= 1 and gpu != 1:
        return Pod(round(cpu * MILLI), round(mem / MIB), 1, round(gpu * MILLI), extra)
    return Pod(round(cpu * MILLI), round(mem / MIB), int(gpu), MILLI if gpu else 0, extra)


def _arrivals(source: str, key: str, raw: Any, count: int, rng: random.Random) -> list[float]:
    if raw is None:
        return [0.0] * count
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return [float(raw)] * count
    if not isinstance(raw, Mapping) or "process" not in raw:
        raise SpecError(
            f"{source}: {key} must be a time in seconds or a table such as "
            '{ process = "poisson", rate_per_s = 0.5 } or { process = "uniform", over_s = 3600 }'
        )
    process = raw["process"]
    start = _number(source, f"{key}.start_s", raw.get("start_s", 0))
    if process == "poisson":
        rate = _number(source, f"{key}.rate_per_s", raw.get("rate_per_s", 0))
        if rate <= 0:
            raise SpecError(f"{source}: {key}.rate_per_s must be > 0 for a poisson process")
        t, out = start, []
        for _ in range(count):
            t += rng.expovariate(rate)
            out.append(t)
        return out
    if process == "uniform":
        over = _number(source, f"{key}.over_s", raw.get("over_s", 0))
        return [start + (over * i / max(count, 1)) for i in range(count)]
    if process == "at":
        return [start] * count
    raise SpecError(f"{source}: {key}.process must be poisson, uniform or at, got {process!r}")


def task_groups(source: str, groups: Any, seed: int) -> list[Job]:
    """Jobs from `[[workload.groups]]` tables: name, count, resources, duration (seconds or a
    distribution table), arrival, after (a group whose end releases this one)."""
    if not isinstance(groups, list) or not groups:
        raise SpecError(f"{source}: workload.groups must be a list of [[workload.groups]] tables")
    rng = random.Random(seed)
    jobs: list[Job] = []
    names = [g.get("name", f"group{i}") for i, g in enumerate(groups)]
    for i, g in enumerate(groups):
        key = f"workload.groups[{i}]"
        if not isinstance(g, Mapping):
            raise SpecError(f"{source}: {key} must be a table")
        unknown = set(g) - {"name", "count", "resources", "duration_s", "arrival", "after"}
        if unknown:
            raise SpecError(
                f"{source}: {key} has unknown key(s) {sorted(unknown)}; a group takes name, count, "
                "resources, duration_s, arrival, after"
            )
        count = _number(source, f"{key}.count", g.get("count", 1), 1, True)
        pod = pod_from_resources(source, f"{key}.resources", g.get("resources", {"CPU": 1}))
        if "duration_s" not in g:
            raise SpecError(f"{source}: {key}.duration_s is missing; add e.g. duration_s = 60")
        delay: Delay = _delay(source, f"{key}.duration_s", g["duration_s"])
        after = g.get("after")
        if after is not None and after not in names[:i]:
            raise SpecError(
                f"{source}: {key}.after = {after!r} names no earlier group; choose one of "
                f"{names[:i]}"
            )
        times = _arrivals(source, f"{key}.arrival", g.get("arrival"), count, rng)
        for t in times:
            jobs.append(Job(len(jobs), t, delay.draw(rng), pod, names[i], after))
    return jobs


PHILLY = {"submit": "timestamp", "duration": "duration", "gpus": "num_gpus"}
ALIBABA = {
    "submit": "creation_time",
    "end": "deletion_time",
    "cpu_milli": "cpu_milli",
    "memory_mib": "memory_mib",
    "gpus": "num_gpu",
    "gpu_milli": "gpu_milli",
}
FORMATS = {"philly": PHILLY, "alibaba": ALIBABA}


def _time(value: str) -> float:
    """Seconds: a number, or a date and time (`YYYY-MM-DD HH:MM:SS` or ISO 8601) read as UTC
    unless it names its zone, so a trace's relative times never depend on the machine's zone
    (a daylight-saving change inside the trace would shift the jobs after it)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is neither seconds nor a date and time such as 2017-10-09 07:01:55"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def csv_trace(
    source: str,
    path: str,
    fmt: str = "csv",
    columns: Mapping[str, str] | None = None,
    limit: int | None = None,
    cpus_per_gpu: float = 0.0,
) -> list[Job]:
    """Jobs from a CSV trace; `fmt` is philly, alibaba, or csv with a `columns` mapping of
    submit, duration (or end), gpus, cpus or cpu_milli, memory_mib, gpu_milli to column names."""
    if fmt not in FORMATS and fmt != "csv":
        raise SpecError(f"{source}: workload.format must be philly, alibaba or csv, got {fmt!r}")
    mapping = dict(FORMATS.get(fmt, {}))
    mapping.update(columns or {})
    if "submit" not in mapping or ("duration" not in mapping and "end" not in mapping):
        raise SpecError(
            f"{source}: workload.columns must map submit and duration (or end) to column names"
        )
    if not os.path.isfile(path):
        raise SpecError(f"{source}: workload.path {path!r} does not exist")
    jobs: list[Job] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in mapping.values() if c not in (reader.fieldnames or [])]
        if missing:
            raise SpecError(
                f"{source}: {path} has no column(s) {missing}; its columns are "
                f"{reader.fieldnames}; fix workload.columns"
            )
        rows = []
        for row in reader:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    for line, row in enumerate(rows, 2):
        if None in row.values():
            raise SpecError(
                f"{source}: {path} line {line} has fewer fields than the header "
                f"{reader.fieldnames}; fix the trace"
            )
        try:
            jobs.append(_trace_job(len(jobs), row, mapping, cpus_per_gpu))
        except (ValueError, TypeError) as e:
            raise SpecError(
                f"{source}: {path} line {line}: {e}; fix the trace or workload.columns"
            ) from None
    if jobs:
        t0 = min(j.submit for j in jobs)
        for j in jobs:
            j.submit -= t0
    jobs.sort(key=lambda j: (j.submit, j.job_id))
    return jobs


def _trace_job(
    job_id: int, row: Mapping[str, str], mapping: Mapping[str, str], cpus_per_gpu: float
) -> Job:
    """One trace row as a job (submit time not yet relative to the trace's start)."""
    submit = _time(row[mapping["submit"]])
    if "duration" in mapping:
        duration = float(row[mapping["duration"]])
    else:
        duration = _time(row[mapping["end"]]) - submit
    gpus = int(float(row[mapping["gpus"]])) if "gpus" in mapping else 0
    gpu_milli = int(row[mapping["gpu_milli"]]) if "gpu_milli" in mapping else MILLI
    if "cpu_milli" in mapping:
        cpu = int(row[mapping["cpu_milli"]])
    elif "cpus" in mapping:
        cpu = round(float(row[mapping["cpus"]]) * MILLI)
    else:
        cpu = round(cpus_per_gpu * max(gpus, 1) * MILLI) if gpus else MILLI
    mem = int(row[mapping["memory_mib"]]) if "memory_mib" in mapping else 0
    pod = Pod(cpu, mem, gpus, (gpu_milli if gpus == 1 else MILLI) if gpus else 0)
    return Job(job_id, submit, max(0.0, duration), pod)


def simray_trace(source: str, path: str) -> list[Job]:
    """Jobs from a simray trace (JSON lines): each task's submit time, measured run time
    (start to finish of its last attempt) and request; dependencies are kept as measured
    submit times."""
    if not os.path.isfile(path):
        raise SpecError(f"{source}: workload.path {path!r} does not exist")
    submits: dict[int, tuple[float, dict[str, float]]] = {}
    starts: dict[int, float] = {}
    jobs: list[Job] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ev, t = rec.get("event"), rec.get("t", 0.0)
            if ev == "submit":
                submits[rec["task"]] = (t, rec.get("demand", {}))
            elif ev == "start":
                starts[rec["task"]] = t
            elif ev == "finish" and rec["task"] in starts and rec["task"] in submits:
                sub, demand = submits[rec["task"]]
                # Only CPU, GPU and memory are planned; markers such as accelerator types or
                # custom resources of the recorded cluster are dropped.
                kept = {k: v for k, v in demand.items() if k in ("CPU", "GPU", "memory")}
                if not kept:
                    kept = {"CPU": 0}
                pod = pod_from_resources(source, f"task {rec['task']}", kept)
                jobs.append(Job(len(jobs), sub, t - starts[rec["task"]], pod))
    if not jobs:
        raise SpecError(f"{source}: {path} has no finished tasks (record with --trace FILE)")
    jobs.sort(key=lambda j: (j.submit, j.job_id))
    return jobs


def ray_timeline(source: str, path: str, resources: Any = None, after: Any = None) -> list[Job]:
    """Jobs from Ray's own `ray timeline` export (`ray.timeline(filename=...)`: Chrome trace
    events): one job per task execution event (`cat` "task::NAME", phase "X"), replayed with its
    measured duration. The export holds no resource requests and no dependencies, so the spec
    gives them by task name: `resources` (default Ray's {CPU = 1}) and `after` (NAME = UPSTREAM:
    released when every UPSTREAM task has finished, after the gap measured between them). A task
    with no `after` arrives at its measured start time, which keeps the recorded order."""
    if not os.path.isfile(path):
        raise SpecError(f"{source}: workload.path {path!r} does not exist")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpecError(
            f"{source}: {path} is not a Chrome trace JSON file ({e}); export one with "
            "ray.timeline(filename=...) or `ray timeline`"
        ) from None
    events = data.get("traceEvents") if isinstance(data, dict) else data
    if not isinstance(events, list):
        raise SpecError(f"{source}: {path} is not a list of trace events (nor traceEvents)")
    tasks: list[tuple[str, str, float, float]] = []  # (name, full name, start s, duration s)
    for ev in events:
        cat = ev.get("cat", "") if isinstance(ev, dict) else ""
        if not cat.startswith("task::") or ev.get("ph") != "X":
            continue
        full = (ev.get("args") or {}).get("name") or ev.get("name") or cat[6:]
        tasks.append((cat[6:], full, float(ev["ts"]) / 1e6, float(ev.get("dur", 0)) / 1e6))
    if not tasks:
        raise SpecError(
            f"{source}: {path} has no task events (cat 'task::NAME'); was it written by "
            "ray.timeline() after the tasks finished?"
        )
    names = sorted({t[0] for t in tasks})
    aliases = {full: name for name, full, _, _ in tasks}

    def task_name(key: str, what: str) -> str:
        if key in names:
            return key
        if key in aliases:
            return aliases[key]
        raise SpecError(f"{source}: {what} names task {key!r}; the timeline's tasks are {names}")

    res_by_name: dict[str, Pod] = {}
    if resources is not None:
        if not isinstance(resources, Mapping):
            raise SpecError(
                f"{source}: workload.resources must be a table of task name -> resources, "
                "e.g. { train = { CPU = 1, GPU = 1 } }"
            )
        for key, res in resources.items():
            if not isinstance(res, Mapping):
                raise SpecError(f"{source}: workload.resources.{key} must be a resources table")
            name = task_name(key, f"workload.resources.{key}")
            res_by_name[name] = pod_from_resources(source, f"workload.resources.{key}", res)
    upstream: dict[str, str] = {}
    if after is not None:
        if not isinstance(after, Mapping):
            raise SpecError(
                f"{source}: workload.after must be a table of task name -> upstream task name, "
                'e.g. { evaluate = "train" }'
            )
        for key, up in after.items():
            if not isinstance(up, str):
                raise SpecError(f"{source}: workload.after.{key} must be one task name")
            upstream[task_name(key, f"workload.after.{key}")] = task_name(
                up, f"workload.after.{key}"
            )
    for name in upstream:
        seen, cur = {name}, name
        while cur in upstream:
            cur = upstream[cur]
            if cur in seen:
                raise SpecError(
                    f"{source}: workload.after has a cycle through {name!r}; "
                    "a task cannot wait for itself"
                )
            seen.add(cur)
    t0 = min(t[2] for t in tasks)
    last_end: dict[str, float] = {}
    for name, _, start, dur in tasks:
        last_end[name] = max(last_end.get(name, 0.0), start + dur - t0)
    default = Pod(MILLI)  # a Ray task asks for one CPU unless told otherwise
    jobs: list[Job] = []
    for name, _, start, dur in sorted(tasks, key=lambda t: (t[2], t[0])):
        rel = start - t0
        up = upstream.get(name)
        submit = max(0.0, rel - last_end[up]) if up else rel
        jobs.append(Job(len(jobs), submit, dur, res_by_name.get(name, default), name, up))
    return jobs
