"""simray's simulator against SimPy on the des-peers workload, written as a Ray program.

The workload of `../shared/bench/des-peers/`: N tasks of 1 CPU on a 64-CPU node, each holding
its CPU for an Exp(1.0) duration drawn from `random.Random(42)` in submission order, all
submitted at t = 0. Here each task is a `@remote` function that sleeps its duration and returns
`simray.sim.now()`. The run checks that the sorted completion times equal SimPy's (within 1e-6 s),
then prints tasks per second of both, measured in this run, and their ratio.

    python benchmarks/bench_des.py                 # N = 10,000 and 100,000, then 1,000,000 (RSS)
    python benchmarks/bench_des.py --sizes 100000 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

SEED = 42
CPUS = 64


def simpy_completions(n: int) -> tuple[list[float], float]:
    """SimPy with its stock Resource, as `bench_simpy.py --queue list` of des-peers."""
    import simpy

    rng = random.Random(SEED)
    env = simpy.Environment()
    cpu = simpy.Resource(env, capacity=CPUS)
    done: list[float] = []

    def task(duration: float):  # type: ignore[no-untyped-def]
        with cpu.request() as req:
            yield req
            yield env.timeout(duration)
        done.append(env.now)

    start = time.perf_counter()
    for _ in range(n):
        env.process(task(rng.expovariate(1.0)))
    env.run()
    return done, time.perf_counter() - start


def simray_completions(n: int) -> tuple[list[float], float]:
    """The same workload as a Ray program on simray's sim backend."""
    import simray
    import simray.sim

    rng = random.Random(SEED)
    wall = time.perf_counter  # bound before init: time.* is virtual while the session is up
    start = wall()
    simray.init(num_cpus=CPUS, _latency=0)  # the zero-cost model: kernel speed alone

    @simray.remote
    def task(duration: float) -> float:
        time.sleep(duration)
        return simray.sim.now()

    refs = [task.remote(rng.expovariate(1.0)) for _ in range(n)]
    done = simray.get(refs)
    simray.shutdown()
    return done, wall() - start


def compare(n: int, reps: int) -> dict[str, float]:
    best_simpy = best_simray = float("inf")
    for _ in range(reps):
        peer, t_simpy = simpy_completions(n)
        ours, t_simray = simray_completions(n)
        best_simpy, best_simray = min(best_simpy, t_simpy), min(best_simray, t_simray)
    peer.sort()
    ours.sort()
    worst = max(abs(a - b) for a, b in zip(peer, ours, strict=True))
    if worst > 1e-6:
        raise SystemExit(f"completion times differ from SimPy's by {worst} s at N={n}")
    row = {
        "n": n,
        "makespan": round(ours[-1], 6),
        "max_abs_diff_vs_simpy": worst,
        "simpy_tasks_per_s": round(n / best_simpy),
        "simray_tasks_per_s": round(n / best_simray),
        "ratio": round(best_simpy / best_simray, 2),
    }
    print(
        f"N={n:>9,}  makespan {ours[-1]:.6f} (= SimPy's, max diff {worst:.1e} s)  "
        f"SimPy {row['simpy_tasks_per_s']:>8,} tasks/s  simray {row['simray_tasks_per_s']:>8,} "
        f"tasks/s  ratio {row['ratio']}x",
        flush=True,
    )
    return row


def own_peak_rss_kib() -> float:
    """This process's own peak RSS in KiB. Linux's `ru_maxrss` (self or children) carries the
    parent's peak across fork and exec, so a child started by a big parent would report the
    parent's memory; `VmHWM` counts this process's address space alone."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # elsewhere: the best known


def one_million_rss() -> None:
    """N = 1,000,000 in a child process; print its wall time and peak RSS."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bench_des; "
        "done, wall = bench_des.simray_completions(1_000_000); "
        "import json; print(json.dumps({'wall': wall, 'n': len(done), "
        "'hwm_kib': bench_des.own_peak_rss_kib()}))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [sys.executable, "-c", code, here], capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout)
    rss_mib = result["hwm_kib"] / 1024
    print(
        f"N=1,000,000  simray {result['n'] / result['wall']:,.0f} tasks/s, wall {result['wall']:.1f} s, "
        f"peak RSS {rss_mib:,.0f} MiB (targets: 150,000 tasks/s, under 600 MiB)",
        flush=True,
    )


def main() -> None:
    import simpy  # noqa: F401  (imported before timing, as simray is)

    import simray  # noqa: F401

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated N")
    parser.add_argument("--reps", type=int, default=3, help="best of this many runs each")
    parser.add_argument("--skip-million", action="store_true")
    args = parser.parse_args()
    # Wall times on a shared machine measure the others too: say how busy it was.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        compare(n, args.reps)
    if not args.skip_million:
        one_million_rss()


if __name__ == "__main__":
    main()
