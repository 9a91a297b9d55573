"""`simray plan SPEC.toml`: capacity planning on Ray's autoscaler in virtual time.

The spec names a cluster (inline `[cluster]` table or `cluster = "file.toml|yaml"`), a workload
and options:

    cluster = "cluster.toml"
    [workload]
    kind = "tasks"              # tasks | trace | simray_trace | ray_timeline | program
    [[workload.groups]]
    name = "map"
    count = 1000
    resources = { CPU = 1 }
    duration_s = { dist = "uniform", low = 30, high = 90 }
    arrival = { process = "poisson", rate_per_s = 2 }
    [plan]
    placement = "ray_default"   # ray_default | spread | best_fit | random | fgd | registered
    seed = 0

Resources are Ray's: CPU, GPU, memory and any custom name (`{ CPU = 1, TPU = 4 }` against a
node type with `resources = { CPU = 8, TPU = 4 }`). A run recorded with `ray.timeline()` replays
with its measured durations; the export holds neither requests nor dependencies, so they are
given by task name:

    [workload]
    kind = "ray_timeline"
    path = "timeline.json"
    resources = { train = { CPU = 1, GPU = 1 } }   # others: Ray's default { CPU = 1 }
    after = { train = "prepare" }                  # train starts when every prepare is done

`--json` prints the summary as JSON, `--html FILE` writes one self-contained page, `--png DIR`
writes PNG plots (the `plot` extra: utilisation, nodes by type, GPU allocation ratio), `--sweep
key=v1,v2` runs each value (dotted keys into the spec), `--slo p90_wait<=600` picks the cheapest
configuration that meets it.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import re
import sys
from typing import Any

from simray._model.cluster_spec import SpecError, from_dict, load, set_path

_SLO = re.compile(
    r"^(p50|p90|p99)_(wait|jct)\s*(<=|<)\s*([0-9.]+)$|^(makespan|cost)\s*(<=|<)\s*([0-9.]+)$"
)


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text in ("true", "false"):
        return text == "true"
    return text


def load_plan(path: str) -> dict[str, Any]:
    import tomllib

    if not os.path.isfile(path):
        raise SpecError(f"{path}: no such plan spec file")
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"{path}: not valid TOML: {e}") from None
    unknown = set(data) - {"cluster", "workload", "plan"}
    if unknown:
        raise SpecError(
            f"{path}: unknown table(s) {sorted(unknown)}; a plan spec has cluster, workload, plan"
        )
    return data


def _cluster(data: dict[str, Any], source: str, base: str):
    raw = data.get("cluster")
    if isinstance(raw, str):
        return load(raw if os.path.isabs(raw) else os.path.join(base, raw))
    if isinstance(raw, dict):
        return from_dict(raw, f"{source} [cluster]")
    raise SpecError(
        f'{source}: cluster is missing; add cluster = "cluster.toml" or a [cluster] table'
    )


def _jobs(data: dict[str, Any], source: str, base: str, seed: int, cluster: Any):
    from simray._plan import workload

    w = data.get("workload")
    if not isinstance(w, dict):
        raise SpecError(f'{source}: [workload] is missing; add kind = "tasks" with groups')
    kind = w.get("kind", "tasks")

    def path_of(key: str = "path") -> str:
        p = w.get(key)
        if not isinstance(p, str):
            raise SpecError(f"{source}: workload.{key} is missing; give the file to read")
        return p if os.path.isabs(p) else os.path.join(base, p)

    if kind == "tasks":
        return workload.task_groups(source, w.get("groups"), seed)
    if kind == "trace":
        return workload.csv_trace(
            source,
            path_of(),
            w.get("format", "csv"),
            w.get("columns"),
            w.get("limit"),
            w.get("cpus_per_gpu", 0.0),
        )
    if kind == "simray_trace":
        return workload.simray_trace(source, path_of())
    if kind == "ray_timeline":
        return workload.ray_timeline(source, path_of(), w.get("resources"), w.get("after"))
    if kind == "program":
        return _program_jobs(source, path_of(), seed, cluster)
    raise SpecError(
        f"{source}: workload.kind must be tasks, trace, simray_trace, ray_timeline or program, "
        f"got {kind!r}"
    )


def _program_jobs(source: str, script: str, seed: int, cluster: Any):
    """Run a Ray program on sim (on the plan's cluster) with a trace, then plan its tasks."""
    import runpy
    import tempfile

    from simray import _ray_alias, _session
    from simray._plan import workload

    trace = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    os.environ["SIMRAY_TRACE"] = trace
    os.environ["SIMRAY_SEED"] = str(seed)
    _ray_alias.install()
    saved = sys.argv
    sys.argv = [script]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        pass
    finally:
        sys.argv = saved
        _session.shutdown()
        os.environ.pop("SIMRAY_TRACE", None)
    return workload.simray_trace(source, trace)


def run_spec(data: dict[str, Any], source: str, base: str, keep_result: bool = False):
    from simray._plan import engine, report

    opts = data.get("plan", {}) or {}
    seed = int(opts.get("seed", 0))
    cluster = _cluster(data, source, base)
    jobs = _jobs(data, source, base, seed, cluster)
    result = engine.run(cluster, jobs, opts.get("placement", "ray_default"), seed)
    summary = report.summarize(result)
    return summary, (result if keep_result else None)


def _meets(summary: dict[str, Any], slo: str) -> bool:
    m = _SLO.match(slo.replace(" ", ""))
    assert m is not None
    if m.group(1):
        value = summary[f"{m.group(2)}_s"][m.group(1)]
        op, limit = m.group(3), float(m.group(4))
    else:
        value = summary["makespan_s"] if m.group(5) == "makespan" else summary["cost"]["total"]
        op, limit = m.group(6), float(m.group(7))
    return value <= limit if op == "<=" else value < limit


def main(argv: list[str] | None = None) -> int:
    from simray._plan import report

    ap = argparse.ArgumentParser(prog="simray plan", description=__doc__.splitlines()[0])
    ap.add_argument("spec")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    ap.add_argument(
        "--png",
        metavar="DIR",
        help="write PNG plots (utilisation, nodes by type, GPU allocation) into DIR; "
        "needs the plot extra (matplotlib)",
    )
    ap.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="run each value of a spec key (dotted, e.g. cluster.max_workers=10,20)",
    )
    ap.add_argument("--slo", help="e.g. p90_wait<=600: pick the cheapest run that meets it")
    args = ap.parse_args(argv)
    if args.slo and not _SLO.match(args.slo.replace(" ", "")):
        print(
            f"simray plan: --slo {args.slo!r} is not understood; write e.g. p90_wait<=600, "
            "p99_jct<7200, makespan<=3600 or cost<=100",
            file=sys.stderr,
        )
        return 2
    if args.png:
        from simray._plan import plots

        if not plots.available():
            print(
                "simray plan: --png needs matplotlib; install the plot extra: "
                "pip install 'simray[plot]'",
                file=sys.stderr,
            )
            return 2
    try:
        data = load_plan(args.spec)
        base = os.path.dirname(os.path.abspath(args.spec))
        axes = []
        for item in args.sweep:
            key, sep, values = item.partition("=")
            if not sep or not values:
                raise SpecError(f"--sweep {item!r}: write KEY=V1,V2 (e.g. cluster.max_workers=4,8)")
            axes.append((key, [_parse_value(v) for v in values.split(",")]))
        combos = list(itertools.product(*[[(k, v) for v in vs] for k, vs in axes])) or [()]
        runs = []
        for i, combo in enumerate(combos, 1):
            d = copy.deepcopy(data)
            d.setdefault("plan", {})
            if isinstance(d.get("cluster"), str) and any(
                k.startswith("cluster.") for k, _ in combo
            ):
                from simray._model.cluster_spec import to_dict

                c = d["cluster"]
                d["cluster"] = to_dict(load(c if os.path.isabs(c) else os.path.join(base, c)))
            for k, v in combo:
                set_path(d, k, v, args.spec)
            name = ", ".join(f"{k}={v}" for k, v in combo) or os.path.basename(args.spec)
            if len(combos) > 1:
                bar = "#" * (20 * i // len(combos))
                print(
                    f"\r[{bar:<20}] {i}/{len(combos)} {name}", end="", file=sys.stderr, flush=True
                )
            summary, result = run_spec(d, args.spec, base, keep_result=bool(args.html or args.png))
            runs.append((name, summary, result))
        if len(combos) > 1:
            print(file=sys.stderr)
    except SpecError as e:
        print(f"simray plan: {e}", file=sys.stderr)
        return 2
    chosen = None
    if args.slo:
        ok = [r for r in runs if _meets(r[1], args.slo)]
        chosen = min(ok, key=lambda r: r[1]["cost"]["total"]) if ok else None
    if args.json:
        out: Any = (
            runs[0][1] if len(runs) == 1 else {"runs": [{"config": n, **s} for n, s, _ in runs]}
        )
        if args.slo:
            out = {"result": out, "slo": args.slo, "chosen": chosen[0] if chosen else None}
        print(json.dumps(out, indent=2))
    else:
        if len(runs) == 1:
            print(report.table(runs[0][1], os.path.basename(args.spec)))
        else:
            print(
                f"{'configuration':<40} {'makespan s':>11} {'p90 wait s':>11} "
                f"{'p90 JCT s':>10} {'node-h':>9} {'cost':>10}"
            )
            for n, s, _ in runs:
                print(
                    f"{n:<40} {s['makespan_s']:>11.1f} {s['wait_s']['p90']:>11.1f} "
                    f"{s['jct_s']['p90']:>10.1f} {s['node_hours']['total']:>9.2f} "
                    f"{s['cost']['total']:>10.2f}"
                )
        if args.slo:
            print(f"cheapest meeting {args.slo}: {chosen[0] if chosen else 'none'}")
    if args.png:
        from simray._plan import plots

        stem = os.path.splitext(os.path.basename(args.spec))[0]
        for name, _, result in runs:
            prefix = stem if len(runs) == 1 else re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)
            for path in plots.write(result, args.png, prefix, name):
                print(f"wrote {path}", file=sys.stderr)
    if args.html:
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(report.html_page(runs, f"simray plan {os.path.basename(args.spec)}"))
    return 0
