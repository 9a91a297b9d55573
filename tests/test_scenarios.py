"""Every shipped scenario runs under `simray exec` and prints its expected lines."""

from __future__ import annotations

import glob
import os

import pytest

from tests.conftest import ROOT, run_simray

SCENARIOS = sorted(
    p
    for p in glob.glob(os.path.join(ROOT, "scenarios", "*.py"))
    if os.path.exists(p[:-3] + ".expected")
)


def test_there_are_scenarios():
    assert SCENARIOS


@pytest.mark.parametrize("script", SCENARIOS, ids=os.path.basename)
def test_scenario_prints_its_expected_output(script, tmp_path):
    proc = run_simray("exec", script, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    with open(script[:-3] + ".expected", encoding="utf-8") as f:
        assert proc.stdout == f.read()
