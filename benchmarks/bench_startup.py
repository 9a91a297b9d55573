"""What simray costs before a program does anything: `import simray` and `simray exec` of a
script that only calls `ray.init()` and `ray.shutdown()`, against a bare `python -c pass`.

Each measurement runs in fresh processes, several times, and keeps the best (the machine is
shared). Two conditions, since they differ by a factor of two:

- bytecode cached: as after `pip install` or any earlier run, Python reads each module's cached
  bytecode (children write it to a private PYTHONPYCACHEPREFIX, warmed up by one run);
- this environment as it is: with PYTHONDONTWRITEBYTECODE=1 (set in some sandboxes and CI
  images) and no `__pycache__` beside simray's sources, every run compiles simray's source again.

It then prints the `-X importtime` breakdown of what `import simray` still imports (the
heaviest modules first), the same for the `simray exec` run (by self time), and which of
asyncio, logging, filelock, cloudpickle and greenlet a bare `import simray` loaded (none
should be, until a session needs them).

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

Rows = list[tuple[int, int, str]]


def child_cpu(cmd: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of `cmd` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def importtime(args: list[str], env: dict[str, str]) -> Rows:
    """`-X importtime` rows (self µs, cumulative µs, indented name) of `python args`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|")
        rows.append((int(self_us), int(cumulative), name[1:].rstrip()))
    return rows


def best_import(module: str, reps: int, env: dict[str, str]) -> tuple[float, Rows]:
    """Best cumulative import time of `module` in ms, and the rows of that best run."""
    best: tuple[float, Rows] = (float("inf"), [])
    for _ in range(reps):
        rows = importtime(["-c", f"import {module}"], env)
        total = next(c for _, c, name in rows if name == module)
        if total / 1000 < best[0]:
            best = (total / 1000, rows)
    return best


def best_rows(args: list[str], reps: int, env: dict[str, str]) -> Rows:
    """Each module's best (smallest) self and cumulative time over `reps` runs of `args`."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(reps):
        for self_us, cumulative, name in importtime(args, env):
            old = best.get(name, (self_us, cumulative))
            best[name] = (min(old[0], self_us), min(old[1], cumulative))
    return [(s, c, name) for name, (s, c) in best.items()]


def measure(label: str, env: dict[str, str], script: str, reps: int) -> None:
    """Print the CPU of bare python, `import simray` and the exec run under `env`."""
    commands = {
        "bare": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import simray"],
        "exec": [sys.executable, "-m", "simray", "exec", "--backend", "sim", script],
    }
    for cmd in commands.values():  # warm-up: writes the bytecode cache where one is kept
        child_cpu(cmd, env)
    best = {name: float("inf") for name in commands}
    for _ in range(reps):  # interleaved, so that a busy spell of the machine hits all alike
        for name, cmd in commands.items():
            best[name] = min(best[name], child_cpu(cmd, env))
    bare, plain, exec_cpu = best["bare"], best["import"], best["exec"]
    print(f"{label}:")
    print(f"  python -c pass:                           {bare * 1000:4.0f} ms CPU")
    print(
        f"  python -c 'import simray':                {plain * 1000:4.0f} ms CPU  "
        f"(+{(plain - bare) * 1000:.0f} ms)"
    )
    print(
        f"  simray exec --backend sim init+shutdown:  {exec_cpu * 1000:4.0f} ms CPU  "
        f"(+{(exec_cpu - bare) * 1000:.0f} ms over python -c pass; target +100 ms)"
    )


def print_rows(title: str, rows: Rows, top: int, key: int) -> None:
    print(f"\n{title} (cumulative, self, ms):")
    for self_us, cumulative, name in sorted(rows, key=lambda r: -r[key])[:top]:
        print(f"  {cumulative / 1000:7.1f} {self_us / 1000:7.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="best of this many runs each")
    parser.add_argument("--top", type=int, default=20, help="rows of each import breakdown")
    args = parser.parse_args()

    as_is = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        cached = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        script = os.path.join(tmp, "init_shutdown.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        exec_args = ["-m", "simray", "exec", "--backend", "sim", script]

        ms, rows = best_import("simray", args.reps, as_is)
        print(f"import simray: {ms:.1f} ms (best of {args.reps}, -X importtime cumulative)")
        measure("bytecode cached (as installed)", cached, script, args.reps)
        package_dir = os.path.join(os.path.dirname(os.path.dirname(__file__)), "simray")
        compiled = not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.path.isdir(
            os.path.join(package_dir, "__pycache__")
        )
        measure(
            "this environment as it is ("
            + ("bytecode cached" if compiled else "PYTHONDONTWRITEBYTECODE set: compiles simray")
            + ")",
            as_is,
            script,
            args.reps,
        )
        exec_as_is = best_rows(exec_args, args.reps, as_is)
        exec_cached = best_rows(exec_args, args.reps, cached)

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

    print_rows(f"-X importtime of `import simray`, the {args.top} heaviest", rows, args.top, 1)
    for label, exec_rows in (("as it is", exec_as_is), ("bytecode cached", exec_cached)):
        print_rows(
            f"-X importtime of the exec run, {label}, the {args.top} heaviest by self time",
            exec_rows,
            args.top,
            0,
        )


if __name__ == "__main__":
    main()
