"""Plan engine speed: the whole Philly trace on >= 1000 GPUs, and 1,000,000 tasks on 1,000
autoscaled nodes, with peak memory.

    python benchmarks/bench_plan.py [--only philly|million]

Targets (issue 8): Philly under 60 s (aim 10 s), a million tasks under 120 s. Each line gives
wall time and the CPU seconds of this process (on a shared machine the wall time mostly
measures the others).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time

from simray._model import cluster_spec
from simray._plan import engine, report, workload
from simray._plan.packing import Pod

DATA = os.environ.get(
    "SIMRAY_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def philly() -> None:
    spec = cluster_spec.from_dict(
        {
            "head_node_type": "head",
            "max_workers": 128,
            "idle_timeout_minutes": 1e9,
            "node_types": {
                "head": {"resources": {"CPU": 8}},
                "gpu8": {
                    "resources": {"CPU": 64, "GPU": 8},
                    "max_workers": 128,
                    "launch_delay_s": 0,
                },
            },
        }
    )
    c0, t0 = time.process_time(), time.perf_counter()
    jobs = workload.csv_trace(
        "bench", os.path.join(DATA, "philly", "philly.csv"), "philly", cpus_per_gpu=4
    )
    t1 = time.perf_counter()
    result = engine.run(spec, jobs, "best_fit", 0)
    t2 = time.perf_counter()
    s = report.summarize(result)
    print(
        f"philly: {len(jobs)} jobs on 128 x 8-GPU nodes (1024 GPUs): load {t1 - t0:.1f} s, "
        f"run {t2 - t1:.1f} s, total {t2 - t0:.1f} s ({time.process_time() - c0:.1f} s CPU); "
        f"finished {s['finished']}, "
        f"p90 wait {s['wait_s']['p90']:.0f} s; peak RSS {_peak_mib():.0f} MiB",
        flush=True,
    )


def million() -> None:
    spec = cluster_spec.from_dict(
        {
            "head_node_type": "head",
            "max_workers": 1000,
            "idle_timeout_minutes": 5,
            "upscaling_speed": 100.0,
            "node_types": {
                "head": {"resources": {"CPU": 0}},
                "cpu16": {
                    "resources": {"CPU": 16},
                    "max_workers": 1000,
                    "launch_delay_s": 60,
                },
            },
        }
    )
    rng = random.Random(0)
    pod = Pod(1000)
    c0, t0 = time.process_time(), time.perf_counter()
    jobs = [workload.Job(i, i * 0.004, rng.uniform(30, 90), pod, "tasks") for i in range(1_000_000)]
    t1 = time.perf_counter()
    result = engine.run(spec, jobs, "ray_default", 0)
    t2 = time.perf_counter()
    s = report.summarize(result)
    print(
        f"million: 1,000,000 one-CPU tasks (30-90 s, 250/s) on up to 1000 autoscaled 16-CPU "
        f"nodes: build {t1 - t0:.1f} s, run {t2 - t1:.1f} s, total {t2 - t0:.1f} s "
        f"({time.process_time() - c0:.1f} s CPU); "
        f"finished {s['finished']}, "
        f"peak nodes {s['peak_nodes'].get('cpu16', 0)}, makespan {s['makespan_s']:.0f} s "
        f"virtual; peak RSS {_peak_mib():.0f} MiB",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("philly", "million"))
    args = ap.parse_args()
    if args.only in (None, "philly"):
        philly()
    if args.only in (None, "million"):
        million()
    return 0


if __name__ == "__main__":
    sys.exit(main())
