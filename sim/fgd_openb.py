"""FGD reproduction on Alibaba's openb trace: GPU allocation ratio by placement policy.

Protocol of Weng et al., "Beware of Fragmentation" (USENIX ATC'23), as its artifact
(hkust-adsl/kubernetes-scheduler-simulator, `experiments/run_scripts/generate_run_scripts.py`:
`-tune 1.3 -tuneseed 42..51 --shuffle-pod=true`) runs it:

- the cluster is the 1,213 GPU nodes (6,212 GPUs) of `openb_node_list_gpu_node.csv`: the
  artifact's `data/prepare_input.sh` copies `openb_node_list_gpu_node.yaml` next to every pod
  list, so the 310 CPU-only nodes of `openb_node_list_all_node.csv` are not in the experiment;
- the workload is every pod of `openb_pod_list_default.csv` (GPU demand 98 % of capacity),
  shuffled (`SortClusterPods`), followed by pods drawn with replacement from the same list
  until the next draw's GPU share would take the demand past 1.3x capacity (`tuneUpPods`);
- pods are placed one at a time with no departures (the pod YAML has no deletion times); a pod
  that fits nowhere fails;
- the allocation ratio at 100 % is the artifact's `merge_alloc_discrete`: the mean of
  allocated / total GPU over the pods whose arrived GPU demand rounds to 100 % of capacity;
  mean and (population) standard deviation over seeds 42-51, as the paper reports them.

    python sim/fgd_openb.py [--seeds 42-51] [--policies random,best_fit,fgd]

`--all-nodes` adds the CPU-only nodes and `--resample` draws the whole workload with
replacement (the protocol as the issue paraphrases it), to show what each choice changes.
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


def load(data: str = DATA, all_nodes: bool = False) -> tuple[list[packing.Node], list[packing.Pod]]:
    """The nodes (GPU nodes only, unless `all_nodes`) and the pods, sorted by name."""
    base = os.path.join(data, "alibaba-openb-2023")
    node_file = "openb_node_list_all_node.csv" if all_nodes else "openb_node_list_gpu_node.csv"
    with open(os.path.join(base, node_file), newline="") as f:
        nodes = [
            packing.Node(
                r["sn"], int(r["cpu_milli"]), int(r["memory_mib"]), int(r["gpu"]), r["model"]
            )
            for r in csv.DictReader(f)
        ]
    with open(os.path.join(base, "openb_pod_list_default.csv"), newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["name"])
    pods = []
    for r in rows:
        n = int(r["num_gpu"])
        pods.append(
            packing.Pod(
                int(r["cpu_milli"]), int(r["memory_mib"]), n, int(r["gpu_milli"]) if n else 0
            )
        )
    return nodes, pods


def workload(
    pods: list[packing.Pod], capacity: int, rng: random.Random, tune: float, resample: bool
) -> list[packing.Pod]:
    """The arrival order: the artifact's shuffled pods then its tuned-up extras (or, with
    `resample`, pods drawn with replacement until the demand reaches `tune` x capacity)."""
    target = tune * capacity
    if resample:
        out: list[packing.Pod] = []
        demand = 0
        while demand < target:
            p = pods[rng.randrange(len(pods))]
            out.append(p)
            demand += p.gpu_total
        rng.shuffle(out)
        return out
    out = list(pods)
    rng.shuffle(out)
    demand = sum(p.gpu_total for p in out)
    while True:  # tuneUpPods: stop at the first draw whose per-GPU share would overshoot
        p = pods[rng.randrange(len(pods))]
        if demand + p.gpu_milli > target:
            return out
        out.append(p)
        demand += p.gpu_total


def run(
    policy_name: str,
    seed: int,
    nodes,
    pods,
    tune: float = 1.3,
    resample: bool = False,
) -> dict[str, float]:
    """One experiment: the allocation ratio (%) at 100% arrived GPU demand, and at the end."""
    rng = random.Random(seed)
    cluster = packing.Cluster(
        [packing.Node(n.name, n.cpu, n.mem, n.gpus, n.model) for n in nodes], compact=True
    )
    capacity = cluster.gpu_capacity
    arrivals = workload(pods, capacity, rng, tune, resample)
    policy = packing.make_policy(policy_name, pods)
    arrived = 0
    at_100: list[float] = []
    near_100: list[float] = []
    failed = 0
    for pod in arrivals:
        arrived += pod.gpu_total
        choice = policy(cluster, pod, rng)
        if choice is None:
            failed += 1
        else:
            cluster.place(choice, pod)
        pct = round(100.0 * arrived / capacity)
        if 99 <= pct <= 101:
            alloc = 100.0 * cluster.gpu_allocated / capacity
            near_100.append(alloc)
            if pct == 100:
                at_100.append(alloc)
    rows = at_100 or near_100  # the artifact widens to +-1 % when no pod lands on 100 %
    return {
        "at_100": statistics.mean(rows),
        "at_end": 100.0 * cluster.gpu_allocated / capacity,
        "failed": failed,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="42-51")
    ap.add_argument("--policies", default="random,best_fit,fgd")
    ap.add_argument("--all-nodes", action="store_true", help="include the CPU-only nodes")
    ap.add_argument("--resample", action="store_true", help="draw every pod with replacement")
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    nodes, pods = load(all_nodes=args.all_nodes)
    print(
        f"openb: {len(nodes)} nodes, {sum(n.gpus for n in nodes)} GPUs; {len(pods)} pods; "
        f"seeds {seeds.start}-{seeds.stop - 1}"
    )
    print(f"{'policy':<10} {'simray alloc % at 100% demand':>30} {'paper':>16} {'diff':>6}")
    for name in args.policies.split(","):
        t0 = time.perf_counter()
        values = [run(name, s, nodes, pods, resample=args.resample)["at_100"] for s in seeds]
        mean = statistics.mean(values)
        sd = statistics.pstdev(values)  # the paper's ± is the population std (ddof 0)
        paper = PAPER.get(name)
        ref = f"{paper[0]:.2f} ± {paper[1]:.2f}" if paper else "-"
        diff = f"{mean - paper[0]:+.2f}" if paper else "-"
        print(
            f"{name:<10} {mean:>22.2f} ± {sd:.2f} {ref:>16} {diff:>6}"
            f"   ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        print(f"{'':<10} per seed: {' '.join(f'{v:.2f}' for v in values)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
