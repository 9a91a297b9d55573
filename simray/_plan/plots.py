"""PNG plots of a plan run (the `plot` extra, matplotlib): utilisation over time, nodes over
time by type, and the GPU allocation ratio as GPU demand arrives.

matplotlib is imported only when a plot is drawn, so `import simray` never loads it.
"""

from __future__ import annotations

import io
import os
from typing import Any

from simray._plan.engine import Result

PLOTS = ("utilisation", "nodes", "gpu_allocation")


def available() -> bool:
    """Whether matplotlib (the `plot` extra) is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError(
            "PNG plots need matplotlib; install the plot extra: pip install 'simray[plot]'"
        ) from None
    matplotlib.use("Agg", force=True)  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


def render(result: Result, title: str = "") -> dict[str, bytes]:
    """The run's plots as PNG bytes, by name (utilisation, nodes, gpu_allocation); a plot with
    nothing to show (no samples, no GPU demand) is left out."""
    plt = _pyplot()
    out: dict[str, bytes] = {}

    def save(fig: Any, name: str) -> None:
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        out[name] = buf.getvalue()

    samples = result.samples
    if samples:
        ts = [s["t"] for s in samples]
        fig, ax = plt.subplots(figsize=(7, 3))
        for key in ("CPU", "GPU"):
            ax.step(ts, [s[key] * 100 for s in samples], where="post", label=key)
        ax.set(xlabel="time (s)", ylabel="allocated (%)", ylim=(0, 105))
        ax.set_title(f"{title}: utilisation over time" if title else "utilisation over time")
        ax.legend(loc="upper right")
        save(fig, "utilisation")

        types = sorted({t for s in samples for t in s["nodes"]})
        fig, ax = plt.subplots(figsize=(7, 3))
        for t in types:
            ax.step(ts, [s["nodes"].get(t, 0) for s in samples], where="post", label=t)
        ax.set(xlabel="time (s)", ylabel="nodes")
        ax.set_title(f"{title}: nodes by type" if title else "nodes by type")
        ax.legend(loc="upper right")
        save(fig, "nodes")

    curve = [c for c in result.alloc_curve if c[2]]
    if curve:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.plot(
            [100 * a / cap for a, _, cap in curve],
            [100 * g / cap for _, g, cap in curve],
            label="allocated",
        )
        ax.plot([0, 100], [0, 100], linestyle=":", color="grey", label="arrived")
        ax.set(xlabel="arrived GPU demand (% of capacity)", ylabel="GPUs allocated (%)")
        ax.set_title(f"{title}: GPU allocation ratio" if title else "GPU allocation ratio")
        ax.legend(loc="upper left")
        save(fig, "gpu_allocation")
    return out


def write(result: Result, directory: str, prefix: str = "plan", title: str = "") -> list[str]:
    """Write the run's plots as `DIR/PREFIX-NAME.png`; the paths written."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, data in render(result, title).items():
        path = os.path.join(directory, f"{prefix}-{name}.png")
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths
