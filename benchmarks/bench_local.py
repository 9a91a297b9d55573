"""simray's `local` backend against real Ray 2.60 on this machine, measured in one run.

Four measures, each the best of `--reps` repetitions, for both in separate fresh processes:
  init+shutdown   `init(num_cpus=2)` then `shutdown()` (seconds, lower is better)
  tiny tasks      `get([f.remote(i) for i in range(N)])` after a warm-up (tasks/s, higher)
  actor calls     `get([a.m.remote(i) for i in range(N)])` on one actor (calls/s, higher)
  100 MB put+get  `get(put(b"x" * 100 MB))` (seconds, lower)
  NumPy put+get   the same with a 100 MB float64 array (zero-copy read-only view on both)
  NumPy to a task `get(f.remote(put(array)))`, `f` reading a 100 MB array in a worker
Prints one line per measure: simray, Ray, and the ratio in simray's favour.

    python benchmarks/bench_local.py             # N = 2000 tasks and calls, 3 repetitions
    python benchmarks/bench_local.py --n 5000 --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, sys, time
which, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if which == "ray":
    import ray
    def init():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
else:
    import simray as ray
    def init():
        ray.init(num_cpus=2, backend="local")

out = {"init_shutdown": [], "tasks": [], "actor": [], "put_get": [], "np_put_get": [],
       "np_task": []}
for _ in range(reps):
    t = time.perf_counter()
    init()
    ray.shutdown()
    out["init_shutdown"].append(time.perf_counter() - t)

init()

@ray.remote
def tiny(i):
    return i

@ray.remote
class Echo:
    def echo(self, i):
        return i

ray.get([tiny.remote(i) for i in range(200)])  # workers started and warm
for _ in range(reps):
    t = time.perf_counter()
    assert ray.get([tiny.remote(i) for i in range(n)]) == list(range(n))
    out["tasks"].append(n / (time.perf_counter() - t))
a = Echo.remote()
ray.get([a.echo.remote(i) for i in range(100)])
for _ in range(reps):
    t = time.perf_counter()
    assert ray.get([a.echo.remote(i) for i in range(n)]) == list(range(n))
    out["actor"].append(n / (time.perf_counter() - t))
value = b"x" * (100 * 1024 * 1024)
for _ in range(reps):
    t = time.perf_counter()
    assert len(ray.get(ray.put(value))) == len(value)
    out["put_get"].append(time.perf_counter() - t)
del value
import numpy as np

@ray.remote
def last(arr):
    return float(arr[-1])

array = np.arange(100 * 1024 * 1024 // 8, dtype=np.float64)
ray.get(last.remote(ray.put(array[:10])))
for _ in range(reps):
    t = time.perf_counter()
    assert ray.get(ray.put(array)).shape == array.shape
    out["np_put_get"].append(time.perf_counter() - t)
for _ in range(reps):
    t = time.perf_counter()
    assert ray.get(last.remote(ray.put(array))) == array[-1]
    out["np_task"].append(time.perf_counter() - t)
ray.shutdown()
print(json.dumps(out))
"""


def measure(which: str, n: int, reps: int) -> dict[str, list[float]]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp") as tmp:
        env["RAY_TMPDIR"] = tmp
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, which, str(n), str(reps)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
            check=False,
        )
    if proc.returncode != 0:
        raise SystemExit(f"{which} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="tasks and actor calls per batch")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (the best is kept)")
    args = parser.parse_args()
    sim = measure("simray", args.n, args.reps)
    ray = measure("ray", args.n, args.reps)
    rows = [
        ("init+shutdown", "init_shutdown", "s", min, lambda s, r: r / s),
        (f"tiny tasks (N={args.n})", "tasks", "tasks/s", max, lambda s, r: s / r),
        (f"actor calls (N={args.n})", "actor", "calls/s", max, lambda s, r: s / r),
        ("100 MB put+get", "put_get", "s", min, lambda s, r: r / s),
        ("100 MB NumPy put+get", "np_put_get", "s", min, lambda s, r: r / s),
        ("100 MB NumPy to a task", "np_task", "s", min, lambda s, r: r / s),
    ]
    for label, key, unit, best, ratio in rows:
        s, r = best(sim[key]), best(ray[key])
        fmt = "{:.3f}" if unit == "s" else "{:,.0f}"
        print(
            f"{label:<24} simray local {fmt.format(s)} {unit:<8} Ray 2.60 {fmt.format(r)} "
            f"{unit:<8} ratio {ratio(s, r):.2f}x (simray's advantage)"
        )


if __name__ == "__main__":
    main()
