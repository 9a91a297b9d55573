"""Measure the defaults of the sim latency model (`simray/_sim/latency.py`) on real Ray.

Run: `RAY_TMPDIR=$(mktemp -d) python benchmarks/measure_latency.py` (needs `pip install ray`).
Prints the median of many round trips after warm-up, one line per figure, in seconds.
"""

from __future__ import annotations

import statistics
import time

import ray


def median_seconds(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    ray.init(num_cpus=2, include_dashboard=False)

    @ray.remote
    def noop(x=None):
        return None

    @ray.remote
    class Actor:
        def noop(self, x=None):
            return None

    actor = Actor.remote()
    ray.get([actor.noop.remote()] + [noop.remote() for _ in range(4)])  # warm up workers
    print("task", median_seconds(lambda: ray.get(noop.remote()), 200))
    print("actor_call", median_seconds(lambda: ray.get(actor.noop.remote()), 200))
    print("put", median_seconds(lambda: ray.put(1), 200))
    one_mb = median_seconds(lambda: ray.put(bytes(1_000_000)), 30)
    ten_mb = median_seconds(lambda: ray.put(bytes(10_000_000)), 30)
    print("per_byte", (ten_mb - one_mb) / 9_000_000)
    ray.shutdown()


if __name__ == "__main__":
    main()
