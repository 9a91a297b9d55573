"""`simray replay`: seeds from the script's header, --trace, --check and its divergence report."""

from __future__ import annotations

import json
import os

from tests.conftest import ROOT, run_simray

RACE = os.path.join(ROOT, "scenarios", "race_found_by_exploration.py")
RACE_TRACE = RACE[:-3] + ".trace.jsonl"


def test_the_stated_seed_shows_the_race_and_seed_zero_hides_it(tmp_path):
    stated = run_simray("replay", RACE, cwd=str(tmp_path))
    assert stated.returncode == 0, stated.stderr
    assert "lost update!" in stated.stdout
    default = run_simray("replay", RACE, "--seed", "0", cwd=str(tmp_path))
    assert "no update lost" in default.stdout


def test_another_seed_diverges_at_the_first_different_event(tmp_path):
    proc = run_simray("replay", RACE, "--seed", "0", "--check", RACE_TRACE, cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "trace differs from" in proc.stderr
    assert "(seed 0): first diverging event is #" in proc.stderr
    recorded = [ln for ln in proc.stderr.splitlines() if ln.startswith("  recorded: ")]
    replayed = [ln for ln in proc.stderr.splitlines() if ln.startswith("  replayed: ")]
    assert len(recorded) == len(replayed) == 1
    old = json.loads(recorded[0].split(": ", 1)[1])
    new = json.loads(replayed[0].split(": ", 1)[1])
    assert old != new
    assert f"at virtual time {new['t']}s" in proc.stderr


def test_trace_option_records_what_check_then_accepts(tmp_path):
    trace = tmp_path / "t.jsonl"
    first = run_simray("replay", RACE, "--seed", "9", "--trace", str(trace), cwd=str(tmp_path))
    assert first.returncode == 0, first.stderr
    again = run_simray("replay", RACE, "--seed", "9", "--check", str(trace), cwd=str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_a_shorter_recording_is_reported(tmp_path):
    with open(RACE_TRACE, encoding="utf-8") as f:
        lines = f.readlines()
    short = tmp_path / "short.jsonl"
    short.write_text("".join(lines[:5]))
    proc = run_simray("replay", RACE, "--check", str(short), cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "the recording stops after 5 events; the replay goes on with event #6" in proc.stderr


def test_mistakes_are_named(tmp_path):
    proc = run_simray("replay", "nope.py", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "simray replay: no such script: nope.py" in proc.stderr
    proc = run_simray("replay", RACE, "--check", "missing.jsonl", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "no such recorded trace: missing.jsonl" in proc.stderr
    bad = tmp_path / "bad.py"
    bad.write_text("# simray-replay: seed=soon\nprint(1)\n")
    proc = run_simray("replay", str(bad), cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "the replay header must read '# simray-replay: seed=N'" in proc.stderr
    proc = run_simray("replay", RACE, cwd=str(tmp_path), env={"SIMRAY_BACKEND": "ray"})
    assert proc.returncode == 2
    assert "replay runs on the sim backend" in proc.stderr
