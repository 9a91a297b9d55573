"""`init(backend="ray")`: a program written against simray runs on real Ray, errors mapped."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROGRAM = """
import time
import simray
from simray.exceptions import GetTimeoutError, RayTaskError

simray.init(num_cpus=2, num_gpus=0, backend="ray")

@simray.remote
def double(x):
    return 2 * x

@simray.remote
def nested(n):
    return sum(simray.get([double.remote(i) for i in range(n)]))

@simray.remote
def boom():
    raise KeyError("k")

@simray.remote
def slow():
    time.sleep(5)

print(simray.get([double.remote(i) for i in range(4)]))
print(simray.get(nested.remote(3)))
try:
    simray.get(boom.remote())
except RayTaskError as e:
    print("task error", isinstance(e, KeyError), type(e.cause).__name__)
try:
    simray.get(slow.remote(), timeout=0.5)
except GetTimeoutError:
    print("timeout")
print(simray.get(simray.put({"a": 1})))
print(sorted(k for k in simray.cluster_resources() if k in ("CPU", "GPU")))
simray.shutdown()
"""


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_simray_program_on_real_ray(tmp_path, ray_tmpdir):
    if importlib.util.find_spec("ray") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must exercise the ray backend: install simray[ray]")
        pytest.skip("real Ray is not installed (pip install -e '.[ray]')")
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMRAY_")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["RAY_TMPDIR"] = ray_tmpdir
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [
        "[0, 2, 4, 6]",
        "6",
        "task error True KeyError",
        "timeout",
        "{'a': 1}",
        "['CPU']",
    ]
