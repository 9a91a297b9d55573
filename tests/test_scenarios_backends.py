"""The bundled scenario property tests on the local backend (real worker processes) in CI.

CI's default run checks them on sim (`tests/test_scenarios_properties.py`); this runs the same
file with `--simray-backend=local`, one hypothesis example per property, so that "the scenarios
hold on every backend" is shown by the suite, not only by hand. On real Ray run the file with
`--simray-backend=ray` (a cluster per example: minutes, so not in CI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT


def test_scenario_properties_pass_on_the_local_backend():
    env = dict(os.environ)
    for name in (
        "SIMRAY_BACKEND",
        "SIMRAY_SEED",
        "SIMRAY_TRACE",
        "SIMRAY_EXPLORE",
        "SIMRAY_JITTER",
    ):
        env.pop(name, None)
    env["SIMRAY_SCENARIO_EXAMPLES"] = "1"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_scenarios_properties.py",
            "--simray-backend=local",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            "-rsx",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    summary = out.strip().splitlines()[-1]
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|xfailed)", summary)}
    assert counts.get("passed", 0) >= 15, summary
    assert "failed" not in counts, summary
    # The sim-only DeadlockError test is the one skip; anything else skipped on local is news.
    assert counts.get("skipped", 0) <= 1, out[-3000:]
