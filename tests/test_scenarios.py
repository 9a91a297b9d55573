"""Every shipped scenario replays with its seed: byte-identical trace, expected output."""

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


def test_there_are_at_least_five_scenarios_each_with_a_recorded_trace():
    assert len(SCENARIOS) >= 5
    for script in SCENARIOS:
        assert os.path.exists(script[:-3] + ".trace.jsonl"), script


@pytest.mark.parametrize("script", SCENARIOS, ids=os.path.basename)
def test_scenario_replays_its_recorded_trace_and_output(script, tmp_path):
    proc = run_simray("replay", script, "--check", script[:-3] + ".trace.jsonl", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "trace identical to" in proc.stderr
    with open(script[:-3] + ".expected", encoding="utf-8") as f:
        assert proc.stdout == f.read()


def test_quickstart_scenario_runs_under_exec(tmp_path):
    script = os.path.join(ROOT, "scenarios", "training_pipeline.py")
    proc = run_simray("exec", script, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    with open(script[:-3] + ".expected", encoding="utf-8") as f:
        assert proc.stdout == f.read()
