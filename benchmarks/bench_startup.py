"""What simray costs before a program does anything: `import simray` and `simray exec` of a
script that only calls `ray.init()` and `ray.shutdown()`, against a bare `python -c pass`.

Each measurement runs in fresh processes, several times, and keeps the best (the machine is
shared). It then prints the `-X importtime` breakdown of what `import simray` still imports,
the heaviest modules first, and which of asyncio, logging, filelock, cloudpickle and greenlet
a bare `import simray` loaded (none should be, until a session needs them).

    python benchmarks/bench_startup.py              # best of 7
    python benchmarks/bench_startup.py --reps 15 --top 25
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

HEAVY = ("asyncio", "logging", "filelock", "cloudpickle", "greenlet", "ray", "hypothesis")
SCRIPT = "import ray\nray.init()\nray.shutdown()\n"


def child_cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of one run of `cmd` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def importtime(module: str) -> list[tuple[int, int, str]]:
    """`-X importtime` rows (self µs, cumulative µs, indented name) of `import module`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|")
        rows.append((int(self_us), int(cumulative), name[1:].rstrip()))
    return rows


def import_ms(module: str, reps: int) -> tuple[float, list[tuple[int, int, str]]]:
    """Best cumulative import time of `module` in ms, and the rows of that best run."""
    best: tuple[float, list[tuple[int, int, str]]] = (float("inf"), [])
    for _ in range(reps):
        rows = importtime(module)
        total = next(c for _, c, name in rows if name == module)
        if total / 1000 < best[0]:
            best = (total / 1000, rows)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="best of this many runs each")
    parser.add_argument("--top", type=int, default=20, help="rows of the import breakdown")
    args = parser.parse_args()

    ms, rows = import_ms("simray", args.reps)
    print(f"import simray: {ms:.1f} ms (best of {args.reps}, -X importtime cumulative)")

    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "init_shutdown.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        bare = min(child_cpu([sys.executable, "-c", "pass"]) for _ in range(args.reps))
        plain = min(child_cpu([sys.executable, "-c", "import simray"]) for _ in range(args.reps))
        exec_cpu = min(
            child_cpu([sys.executable, "-m", "simray", "exec", "--backend", "sim", script])
            for _ in range(args.reps)
        )
    print(f"python -c pass:                       {bare * 1000:6.0f} ms CPU")
    print(
        f"python -c 'import simray':            {plain * 1000:6.0f} ms CPU  "
        f"(+{(plain - bare) * 1000:.0f} ms)"
    )
    print(
        f"simray exec --backend sim init+shutdown: {exec_cpu * 1000:3.0f} ms CPU  "
        f"(+{(exec_cpu - bare) * 1000:.0f} ms over python -c pass; target +100 ms)"
    )

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, simray; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"heavy modules loaded by a bare `import simray`: {loaded}")

    print(f"\n-X importtime of `import simray`, the {args.top} heaviest (cumulative, self, ms):")
    for self_us, cumulative, name in sorted(rows, key=lambda r: -r[1])[: args.top]:
        print(f"  {cumulative / 1000:7.1f} {self_us / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
