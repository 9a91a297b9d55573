"""The plan engine's results are exactly those of the reference engine: every job's start and
end, every node's launch, join and end, the samples and the summary, on seeded synthetic Philly,
Alibaba-style and task-group workloads, by each placement policy.

`tests/data/plan_golden.json` was written by the engine before its speed work; regenerate it
only for an intended change of results: `python tests/test_plan_golden.py --write`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys

import pytest

from simray._model import cluster_spec
from simray._plan import engine, report, workload

GOLDEN = os.path.join(os.path.dirname(__file__), "data", "plan_golden.json")


def _philly_csv(path: str, n: int, seed: int) -> None:
    """A Philly-format trace: bursty submissions over 20 days, heavy-tailed durations, GPU
    counts as Philly's (mostly 1, some 2-8, a few wider than a node)."""
    rng = random.Random(seed)
    t = 1506816000  # 2017-10-01 00:00:00 UTC
    rows = ["timestamp,duration,num_gpus,gpu_time,cluster"]
    for _ in range(n):
        t += int(rng.expovariate(1 / 600)) if rng.random() < 0.7 else 0
        gpus = rng.choices([1, 2, 4, 8, 16], [70, 10, 10, 8, 2])[0]
        dur = round(min(rng.lognormvariate(7.5, 2.0), 10 * 86400))
        stamp = _utc(t)
        rows.append(f"{stamp},{dur}.0,{gpus},{dur * gpus}.0,c{rng.randrange(3)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def _utc(t: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _alibaba_csv(path: str, n: int, seed: int) -> None:
    """An openb-style pod list with creation/deletion times and GPU shares."""
    rng = random.Random(seed)
    rows = ["name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,deletion_time"]
    t = 0
    for i in range(n):
        t += int(rng.expovariate(1 / 30))
        num_gpu = rng.choices([0, 1, 2, 4, 8], [15, 60, 10, 10, 5])[0]
        milli = rng.choice([250, 500, 1000]) if num_gpu == 1 else (1000 if num_gpu else 0)
        cpu = rng.choice([1000, 2000, 4000, 8000])
        mem = rng.choice([1024, 4096, 16384])
        rows.append(f"p{i},{cpu},{mem},{num_gpu},{milli},{t},{t + int(rng.expovariate(1 / 900))}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


PHILLY_FLEET = {
    "head_node_type": "head",
    "max_workers": 6,
    "idle_timeout_minutes": 1e9,
    "node_types": {
        "head": {"resources": {"CPU": 8}},
        "gpu8": {
            "resources": {"CPU": 64, "GPU": 8},
            "max_workers": 6,
            "launch_delay_s": 0,
            "price_per_hour": 24.48,
        },
    },
}
PHILLY_AUTOSCALED = {
    "head_node_type": "head",
    "max_workers": 10,
    "idle_timeout_minutes": 10,
    "upscaling_speed": 0.5,
    "node_types": {
        "head": {"resources": {"CPU": 8}},
        "gpu4": {
            "resources": {"CPU": 32, "GPU": 4},
            "max_workers": 6,
            "launch_delay_s": {"dist": "uniform", "low": 60, "high": 240},
            "price_per_hour": 12.0,
        },
        "gpu8": {
            "resources": {"CPU": 64, "GPU": 8},
            "min_workers": 1,
            "max_workers": 4,
            "launch_delay_s": 120,
            "price_per_hour": 24.48,
        },
    },
}
ALIBABA_FLEET = {
    "head_node_type": "head",
    "max_workers": 12,
    "idle_timeout_minutes": 5,
    "node_types": {
        "head": {"resources": {"CPU": 4}},
        "cpu": {"resources": {"CPU": 32, "memory": 128 * 2**30}, "max_workers": 4},
        "gpu2": {
            "resources": {"CPU": 32, "GPU": 2, "memory": 128 * 2**30},
            "max_workers": 6,
            "launch_delay_s": 30,
        },
        "gpu8": {
            "resources": {"CPU": 96, "GPU": 8, "memory": 512 * 2**30},
            "max_workers": 3,
            "launch_delay_s": 90,
        },
    },
}
TASKS_CLUSTER = {
    "head_node_type": "head",
    "max_workers": 30,
    "idle_timeout_minutes": 1,
    "upscaling_speed": 2.0,
    "node_types": {
        "head": {"resources": {"CPU": 2}},
        "cpu4": {"resources": {"CPU": 4}, "max_workers": 20, "launch_delay_s": 45},
        "cpu16": {
            "resources": {"CPU": 16},
            "max_workers": 10,
            "launch_delay_s": {"dist": "uniform", "low": 60, "high": 180},
        },
        "gpu1": {"resources": {"CPU": 8, "GPU": 1}, "max_workers": 3, "launch_delay_s": 100},
    },
}
TASK_GROUPS = [
    {
        "name": "ingest",
        "count": 1500,
        "resources": {"CPU": 1},
        "duration_s": {"dist": "uniform", "low": 5, "high": 90},
        "arrival": {"process": "poisson", "rate_per_s": 3},
    },
    {
        "name": "wide",
        "count": 60,
        "resources": {"CPU": 6},
        "duration_s": 200,
        "arrival": {"process": "uniform", "over_s": 1800},
    },
    {
        "name": "train",
        "count": 12,
        "resources": {"CPU": 2, "GPU": 1},
        "duration_s": 400,
        "after": "ingest",
    },
    {
        "name": "late",
        "count": 300,
        "resources": {"CPU": 1},
        "duration_s": 30,
        "arrival": {"process": "at", "start_s": 5000},
    },
]


def _cases(tmp: str) -> dict[str, tuple[dict, list, str]]:
    philly = os.path.join(tmp, "philly.csv")
    alibaba = os.path.join(tmp, "openb.csv")
    _philly_csv(philly, 1500, 7)
    _alibaba_csv(alibaba, 800, 11)
    cases = {}
    for policy in ("best_fit", "ray_default"):
        cases[f"philly-fleet-{policy}"] = (
            PHILLY_FLEET,
            workload.csv_trace("t", philly, "philly", cpus_per_gpu=4),
            policy,
        )
    cases["philly-autoscaled-best_fit"] = (
        PHILLY_AUTOSCALED,
        workload.csv_trace("t", philly, "philly", cpus_per_gpu=4),
        "best_fit",
    )
    for policy in ("ray_default", "spread", "best_fit", "random", "fgd"):
        cases[f"alibaba-{policy}"] = (
            ALIBABA_FLEET,
            workload.csv_trace("t", alibaba, "alibaba"),
            policy,
        )
    for policy in ("ray_default", "random"):
        cases[f"tasks-{policy}"] = (
            TASKS_CLUSTER,
            workload.task_groups("t", TASK_GROUPS, 3),
            policy,
        )
    return cases


def _digest(spec: dict, jobs: list, policy: str) -> dict:
    result = engine.run(cluster_spec.from_dict(spec), jobs, policy, seed=5)
    summary = report.summarize(result)
    detail = {
        "submit": [j.submit for j in result.jobs],
        "start": result.start,
        "end": result.end,
        "nodes": [(p.node_type, p.launched, p.joined, p.ended) for p in result.nodes],
        "samples": result.samples,
        "alloc_curve": result.alloc_curve,
        "horizon": result.horizon,
    }
    blob = json.dumps(detail, sort_keys=True).encode()
    return {"summary": summary, "detail_sha256": hashlib.sha256(blob).hexdigest()}


@pytest.fixture(scope="module")
def golden():
    with open(GOLDEN, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return _cases(str(tmp_path_factory.mktemp("golden")))


CASE_NAMES = [
    "philly-fleet-best_fit",
    "philly-fleet-ray_default",
    "philly-autoscaled-best_fit",
    "alibaba-ray_default",
    "alibaba-spread",
    "alibaba-best_fit",
    "alibaba-random",
    "alibaba-fgd",
    "tasks-ray_default",
    "tasks-random",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_plan_results_match_golden(name, cases, golden):
    got = json.loads(json.dumps(_digest(*cases[name])))
    assert got["summary"] == golden[name]["summary"]
    assert got["detail_sha256"] == golden[name]["detail_sha256"]


def test_golden_cases_exercise_the_engine(golden):
    """The golden runs queue, launch, terminate idle nodes and leave work unserved, so an
    optimisation that changes any of those paths shows."""
    s = {k: v["summary"] for k, v in golden.items()}
    assert s["philly-fleet-best_fit"]["wait_s"]["p90"] > 0
    assert s["philly-fleet-best_fit"]["unserved"]
    assert s["philly-autoscaled-best_fit"]["peak_nodes"]["gpu4"] > 0
    assert s["tasks-ray_default"]["peak_nodes"]["cpu4"] > 0
    assert s["alibaba-fgd"]["finished"] > 0


def _write() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cases = _cases(tmp)
        out = {name: _digest(*cases[name]) for name in CASE_NAMES}
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    with open(GOLDEN, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _write()
