"""How simray's sim backend scales with the size of a session: a cluster of 1,000 nodes with
10,000 actors, and `ray.wait` / `ray.get` over 25k, 50k and 100k refs.

Start-up: a `Cluster` of 1,000 nodes (16 CPUs each), `init`, 10,000 actors created with Ray's
default options and one call to each answered, with the peak memory that took. Wait and get: N tasks that each sleep a seeded
random virtual time, then one `ray.wait(refs, num_returns=N)` while all are pending, then one
`ray.get(refs)`. Cost per ref that stays flat as N grows is O(N) overall; the script prints the
growth of the per-ref cost from the smallest to the largest N (1.0 is linear, 4.0 would be
quadratic over a 4x range). Wall times, best of `--reps`.

    python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --nodes 1000 --actors 10000 --sizes 25000,50000,100000
"""

from __future__ import annotations

import argparse
import random
import resource
import time

WALL = time.perf_counter  # bound before init: time.* is virtual while a sim session is up
CPU = time.process_time


def peak_rss_mib() -> float:
    """The process's peak resident set so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def session_start(nodes: int, actors: int) -> tuple[float, float, float]:
    """Seconds to build the cluster and init, and to create the actors and hear from each; and
    the CPU seconds of both (the wall time on a machine shared with other work)."""
    import simray
    from simray.cluster import Cluster

    cpu = CPU()
    start = WALL()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 16})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=16)
    simray.init(address=cluster.address)
    up = WALL()

    @simray.remote
    class Member:
        def ping(self) -> int:
            return 1

    handles = [Member.remote() for _ in range(actors)]
    if sum(simray.get([h.ping.remote() for h in handles])) != actors:
        raise SystemExit("not every actor answered")
    done = WALL()
    cpu = CPU() - cpu
    simray.shutdown()
    return up - start, done - up, cpu


def wait_and_get(n: int) -> tuple[float, float]:
    """Seconds of one `wait(num_returns=n)` over n pending refs, then one `get` of them all."""
    import simray

    simray.init(num_cpus=64)

    @simray.remote
    def work(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    rng = random.Random(0)
    refs = [work.remote(rng.expovariate(1.0)) for _ in range(n)]
    start = WALL()
    ready, rest = simray.wait(refs, num_returns=n)
    waited = WALL()
    values = simray.get(refs)
    got = WALL()
    if len(ready) != n or rest or len(values) != n:
        raise SystemExit(
            f"wait/get returned {len(ready)} ready, {len(rest)} not, {len(values)} values"
        )
    simray.shutdown()
    return waited - start, got - waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--actors", type=int, default=10_000)
    parser.add_argument("--sizes", default="25000,50000,100000", help="comma-separated N")
    parser.add_argument("--reps", type=int, default=3, help="best of this many runs each")
    args = parser.parse_args()

    before = peak_rss_mib()
    runs = [session_start(args.nodes, args.actors) for _ in range(args.reps)]
    cluster_s, actors_s, _ = min(runs, key=lambda r: r[0] + r[1])
    peak = peak_rss_mib()
    print(
        f"session start: {args.nodes:,} nodes + init {cluster_s:.2f} s, {args.actors:,} actors "
        f"created and answering {actors_s:.2f} s, total {cluster_s + actors_s:.2f} s "
        f"(target < 1 s; CPU {min(r[2] for r in runs):.2f} s)"
    )
    print(
        f"{args.nodes:,} nodes + {args.actors:,} actors + one call on each: peak RSS {peak:.0f} "
        f"MiB ({peak - before:.0f} MiB over the {before:.0f} MiB before, "
        f"{(peak - before) * 1024 / args.actors:.1f} KiB per actor)"
    )

    sizes = [int(s) for s in args.sizes.split(",")]
    per_ref: dict[int, tuple[float, float]] = {}
    for n in sizes:
        best_wait = best_get = float("inf")
        for _ in range(args.reps):
            w, g = wait_and_get(n)
            best_wait, best_get = min(best_wait, w), min(best_get, g)
        per_ref[n] = (best_wait / n, best_get / n)
        print(
            f"N={n:>7,}  wait(num_returns=N) {best_wait * 1e3:8.1f} ms ({per_ref[n][0] * 1e6:5.2f} "
            f"µs/ref)  get(list) {best_get * 1e3:7.1f} ms ({per_ref[n][1] * 1e6:5.2f} µs/ref)"
        )
    lo, hi = min(sizes), max(sizes)
    print(
        f"per-ref cost growth from N={lo:,} to N={hi:,} ({hi / lo:.0f}x more refs): wait "
        f"{per_ref[hi][0] / per_ref[lo][0]:.2f}x, get {per_ref[hi][1] / per_ref[lo][1]:.2f}x "
        "(1.0 = linear)"
    )


if __name__ == "__main__":
    main()
