"""Reports of a plan run: the summary dict (`--json`), a terminal table, and one self-contained
HTML page (no network, no scripts) with the plots as inline PNGs when matplotlib (the `plot`
extra) is installed, else as inline SVG."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

from simray._plan.engine import Result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _pcts(values: list[float]) -> dict[str, float]:
    return {f"p{int(q * 100)}": round(_pct(values, q), 3) for q in (0.5, 0.9, 0.99)}


def summarize(result: Result) -> dict[str, Any]:
    """The report as a dict: makespan_s, wait_s, jct_s, node_hours, cost, utilisation, ..."""
    jobs = result.jobs
    waits, jcts, ends = [], [], []
    for j in jobs:
        s, e = result.start[j.job_id], result.end[j.job_id]
        if not math.isnan(e):
            waits.append(s - j.submit)
            jcts.append(e - j.submit)
            ends.append(e)
    first = min((j.submit for j in jobs), default=0.0)
    node_hours: dict[str, float] = {}
    cost: dict[str, float] = {}
    for p in result.nodes:
        hours = max(0.0, (p.ended or 0.0) - p.launched) / 3600
        node_hours[p.node_type] = node_hours.get(p.node_type, 0.0) + hours
        price = result.spec.node_types[p.node_type].price_per_hour
        cost[p.node_type] = cost.get(p.node_type, 0.0) + hours * price
    node_hours = {k: round(v, 4) for k, v in node_hours.items()}
    node_hours["total"] = round(sum(node_hours.values()), 4)
    cost = {k: round(v, 4) for k, v in cost.items()}
    cost["total"] = round(sum(cost.values()), 4)
    util: dict[str, float] = {}
    if result.samples:
        for key in ("CPU", "GPU"):
            util[key] = round(sum(s[key] for s in result.samples) / len(result.samples), 4)
    peak: dict[str, int] = {}
    for s in result.samples:
        for t, c in s["nodes"].items():
            peak[t] = max(peak.get(t, 0), c)
    return {
        "jobs": len(jobs),
        "finished": len(ends),
        "makespan_s": round((max(ends) - first) if ends else 0.0, 3),
        "wait_s": _pcts(waits),
        "jct_s": _pcts(jcts),
        "node_hours": node_hours,
        "cost": cost,
        "utilisation": util,
        "peak_nodes": peak,
        "gpu_allocation_ratio": _alloc_ratio(result),
        "unserved": list(result.unserved.values()),
    }


def _alloc_ratio(result: Result) -> float | None:
    """GPUs allocated over GPU capacity when the arrived GPU demand first reached the capacity
    (the FGD paper's allocation ratio at 100% arrived demand); None if demand never got there."""
    for arrived, allocated, capacity in result.alloc_curve:
        if capacity and arrived >= capacity:
            return round(allocated / capacity, 4)
    return None


def table(summary: dict[str, Any], title: str = "") -> str:
    """The summary as aligned text for the terminal."""
    lines = [title] if title else []
    lines.append(f"jobs            {summary['finished']}/{summary['jobs']} finished")
    lines.append(f"makespan        {summary['makespan_s']:.1f} s")
    for key, label in (("wait_s", "wait"), ("jct_s", "completion")):
        p = summary[key]
        lines.append(
            f"{label:<15} p50 {p['p50']:.1f} s   p90 {p['p90']:.1f} s   p99 {p['p99']:.1f} s"
        )
    lines.append("node type         node-hours        cost   peak nodes")
    for t, h in summary["node_hours"].items():
        if t == "total":
            continue
        lines.append(
            f"  {t:<16}{h:>11.2f} {summary['cost'].get(t, 0):>11.2f} "
            f"{summary['peak_nodes'].get(t, 0):>12}"
        )
    lines.append(
        f"  {'total':<16}{summary['node_hours']['total']:>11.2f} {summary['cost']['total']:>11.2f}"
    )
    util = ", ".join(f"{k} {v * 100:.1f}%" for k, v in summary["utilisation"].items())
    lines.append(f"utilisation     {util}")
    if summary["gpu_allocation_ratio"] is not None:
        lines.append(
            f"GPU allocation  {summary['gpu_allocation_ratio'] * 100:.2f}% of arrived demand"
        )
    for u in summary["unserved"]:
        lines.append(f"unserved        {u['jobs']} job(s): {u['reason']}")
    return "\n".join(lines)


def _svg_lines(series: dict[str, list[tuple[float, float]]], title: str, ylabel: str) -> str:
    w, h, pad = 640, 240, 40
    pts = [p for s in series.values() for p in s]
    if not pts:
        return f"<p>{html.escape(title)}: no data</p>"
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts) or 1.0
    y1 = max(max(p[1] for p in pts), 1e-9)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{pad}" y="16" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="#333"/>',
        f'<line x1="{pad}" y1="20" x2="{pad}" y2="{h - pad}" stroke="#333"/>',
        f'<text x="4" y="{h / 2}" font-size="11">{html.escape(ylabel)}</text>',
        f'<text x="{pad}" y="{h - 22}" font-size="10">{x0:.0f} s</text>',
        f'<text x="{w - 80}" y="{h - 22}" font-size="10">{x1:.0f} s</text>',
        f'<text x="{pad + 4}" y="30" font-size="10">{y1:.3g}</text>',
    ]
    span = (x1 - x0) or 1.0
    for i, (name, s) in enumerate(series.items()):
        if len(s) > 800:
            step = len(s) / 800
            s = [s[int(k * step)] for k in range(800)] + [s[-1]]
        coords = " ".join(
            f"{pad + (x - x0) / span * (w - pad - 10):.1f},{h - pad - y / y1 * (h - pad - 24):.1f}"
            for x, y in s
        )
        color = colors[i % len(colors)]
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}">'
            f"<title>{html.escape(name)}</title></polyline>"
        )
        out.append(
            f'<text x="{w - 150}" y="{34 + 14 * i}" font-size="11" fill="{color}">'
            f"{html.escape(name)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def html_page(runs: list[tuple[str, dict[str, Any], Result | None]], title: str) -> str:
    """One self-contained page: a comparison table of the runs, then each run's tables and
    plots (PNG with matplotlib: utilisation, nodes by type, GPU allocation ratio; else SVG:
    nodes by type and utilisation over time)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
        "th{background:#eee}td:first-child{text-align:left}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<h2>Comparison</h2><table id='comparison'><tr><th>configuration</th><th>makespan s</th>"
        "<th>p50 wait s</th><th>p90 wait s</th><th>p99 wait s</th><th>p90 JCT s</th>"
        "<th>node-hours</th><th>cost</th><th>unserved jobs</th></tr>",
    ]
    for name, s, _ in runs:
        parts.append(
            f"<tr><td>{esc(name)}</td><td>{s['makespan_s']:.1f}</td>"
            f"<td>{s['wait_s']['p50']:.1f}</td><td>{s['wait_s']['p90']:.1f}</td>"
            f"<td>{s['wait_s']['p99']:.1f}</td><td>{s['jct_s']['p90']:.1f}</td>"
            f"<td>{s['node_hours']['total']:.2f}</td><td>{s['cost']['total']:.2f}</td>"
            f"<td>{sum(u['jobs'] for u in s['unserved'])}</td></tr>"
        )
    parts.append("</table>")
    from simray._plan import plots

    png = plots.available()
    for name, s, result in runs:
        parts.append(f"<h2>{esc(name)}</h2><pre class='summary'>{esc(table(s))}</pre>")
        if result is None or not result.samples:
            continue
        if png:
            for plot, data in plots.render(result).items():
                parts.append(
                    f"<img class='plot' alt='{esc(plot)}' "
                    f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
                )
            continue
        types = sorted({t for smp in result.samples for t in smp["nodes"]})
        nodes = {t: [(smp["t"], smp["nodes"].get(t, 0)) for smp in result.samples] for t in types}
        parts.append(_svg_lines(nodes, "nodes by type over time", "nodes"))
        util = {k: [(smp["t"], smp[k] * 100) for smp in result.samples] for k in ("CPU", "GPU")}
        parts.append(_svg_lines(util, "utilisation over time (%)", "%"))
    parts.append("</body></html>")
    return "\n".join(parts)
