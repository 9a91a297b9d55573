"""`simray plan --png DIR`: real PNG files from matplotlib (the `plot` extra), and the HTML
report embedding them; `import simray` never loads matplotlib."""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import sys

import pytest

from simray._plan import main as plan_main

pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")

CLUSTER = """
head_node_type = "head"
max_workers = 6
idle_timeout_minutes = 1
[node_types.head]
resources = { CPU = 2 }
[node_types.cpu8]
resources = { CPU = 8 }
max_workers = 4
launch_delay_s = 30
price_per_hour = 0.5
[node_types.gpu4]
resources = { CPU = 8, GPU = 4 }
max_workers = 2
launch_delay_s = 60
price_per_hour = 2.0
"""

PLAN = """
cluster = "cluster.toml"
[workload]
kind = "tasks"
[[workload.groups]]
name = "prep"
count = 60
resources = { CPU = 1 }
duration_s = 30
arrival = { process = "poisson", rate_per_s = 1 }
[[workload.groups]]
name = "infer"
count = 24
resources = { CPU = 1, GPU = 0.5 }
duration_s = 120
arrival = { process = "poisson", rate_per_s = 0.2 }
"""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (the first chunk after the signature)."""
    assert data[:8] == PNG_MAGIC, "not a PNG signature"
    assert data[12:16] == b"IHDR", "the first chunk of a PNG must be IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "cluster.toml").write_text(CLUSTER)
    (tmp_path / "plan.toml").write_text(PLAN)
    return tmp_path / "plan.toml"


def test_png_plots_are_written(spec, tmp_path, capsys):
    out = tmp_path / "plots"
    assert plan_main([str(spec), "--png", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["plan-gpu_allocation.png", "plan-nodes.png", "plan-utilisation.png"]
    for p in out.iterdir():
        data = p.read_bytes()
        width, height = _png_size(data)
        assert width >= 300, (p.name, width)
        assert height >= 150, (p.name, height)
        assert len(data) > 5_000, f"{p.name} is only {len(data)} bytes: an empty canvas?"
        assert data.endswith(b"IEND\xaeB`\x82"), f"{p.name} is truncated"
    assert "wrote" in capsys.readouterr().err


def test_png_plots_per_sweep_run(spec, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert plan_main([str(spec), "--png", str(out), "--sweep", "plan.seed=1,2"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 6
    assert {n.split("-")[0] for n in names} == {"plan.seed=1", "plan.seed=2"}


def test_html_embeds_the_png_plots(spec, tmp_path, capsys):
    page = tmp_path / "report.html"
    assert plan_main([str(spec), "--html", str(page)]) == 0
    text = page.read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 3
    for b64 in images:
        width, _ = _png_size(base64.b64decode(b64))
        assert width >= 300
    assert "http://" not in text  # self-contained
    assert "https://" not in text


def test_import_simray_does_not_load_matplotlib():
    code = "import sys, simray, simray._plan; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
