"""FGD reproduction on Alibaba's openb trace: GPU allocation ratio by placement policy.

Protocol of Weng et al., "Beware of Fragmentation" (USENIX ATC'23): the 1,523 openb nodes
(6,212 GPUs); pods of `openb_pod_list_default.csv` sampled with replacement until their GPU
demand reaches 1.3x the fleet's GPUs, shuffled, placed one at a time with no departures; a pod
that fits nowhere fails. The allocation ratio (allocated / total GPU) is read when the arrived
GPU demand reaches 100% of capacity; mean and standard deviation over seeds 42-51.

    python sim/fgd_openb.py [--seeds 42-51] [--policies random,best_fit,fgd]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time

from simray._plan import packing

DATA = os.environ.get(
    "SIMRAY_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
)
PAPER = {"random": (86.30, 0.31), "best_fit": (92.86, 0.14), "fgd": (95.23, 0.10)}


def load(data: str = DATA) -> tuple[list[packing.Node], list[packing.Pod]]:
    base = os.path.join(data, "alibaba-openb-2023")
    with open(os.path.join(base, "openb_node_list_all_node.csv"), newline="") as f:
        nodes = [
            packing.Node(
                r["sn"], int(r["cpu_milli"]), int(r["memory_mib"]), int(r["gpu"]), r["model"]
            )
            for r in csv.DictReader(f)
        ]
    with open(os.path.join(base, "openb_pod_list_default.csv"), newline="") as f:
        pods = []
        for r in csv.DictReader(f):
            n = int(r["num_gpu"])
            pods.append(
                packing.Pod(
                    int(r["cpu_milli"]), int(r["memory_mib"]), n, int(r["gpu_milli"]) if n else 0
                )
            )
    return nodes, pods


def run(policy_name: str, seed: int, nodes, pods, tune: float = 1.3) -> dict[str, float]:
    """One experiment: the allocation ratio (%) at 100% arrived GPU demand, and at the end."""
    rng = random.Random(seed)
    cluster = packing.Cluster([packing.Node(n.name, n.cpu, n.mem, n.gpus, n.model) for n in nodes])
    capacity = cluster.gpu_capacity
    workload: list[packing.Pod] = []
    demand = 0
    while demand < tune * capacity:
        p = pods[rng.randrange(len(pods))]
        workload.append(p)
        demand += p.gpu_total
    rng.shuffle(workload)
    policy = packing.make_policy(policy_name, pods)
    arrived = 0
    at_full = None
    failed = 0
    for pod in workload:
        if at_full is None and arrived + pod.gpu_total > capacity:
            at_full = 100.0 * cluster.gpu_allocated / capacity
        arrived += pod.gpu_total
        choice = policy(cluster, pod, rng)
        if choice is None:
            failed += 1
            continue
        cluster.place(choice, pod)
    return {
        "at_100": at_full if at_full is not None else 100.0 * cluster.gpu_allocated / capacity,
        "at_end": 100.0 * cluster.gpu_allocated / capacity,
        "failed": failed,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="42-51")
    ap.add_argument("--policies", default="random,best_fit,fgd")
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    nodes, pods = load()
    print(
        f"openb: {len(nodes)} nodes, {sum(n.gpus for n in nodes)} GPUs; {len(pods)} pods; "
        f"seeds {seeds.start}-{seeds.stop - 1}"
    )
    print(f"{'policy':<10} {'simray alloc % at 100% demand':>30} {'paper':>16} {'diff':>6}")
    for name in args.policies.split(","):
        t0 = time.perf_counter()
        values = [run(name, s, nodes, pods)["at_100"] for s in seeds]
        mean = statistics.mean(values)
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        paper = PAPER.get(name)
        ref = f"{paper[0]:.2f} ± {paper[1]:.2f}" if paper else "-"
        diff = f"{mean - paper[0]:+.2f}" if paper else "-"
        print(
            f"{name:<10} {mean:>22.2f} ± {sd:.2f} {ref:>16} {diff:>6}"
            f"   ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
