"""Shutdown drains fire-and-forget work on sim (simray defines this; see the README table).

Not a conformance program: on real Ray, whether tasks submitted and never waited on run before
the driver's job ends races worker start-up (a loaded machine was seen to run none of them), so
no expected output can be captured from Ray that would not be flaky.
"""

from __future__ import annotations

import os

from tests.conftest import run_simray

PROGRAM = os.path.join(os.path.dirname(__file__), "sim_programs", "fire_and_forget_drain.py")


def test_fire_and_forget_tasks_run_before_the_driver_ends(tmp_path):
    proc = run_simray("exec", "--backend", "sim", PROGRAM, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(PROGRAM[:-3] + ".expected", encoding="utf-8") as f:
        assert proc.stdout == f.read()


def test_no_drain_when_the_grace_period_is_zero(tmp_path):
    proc = run_simray(
        "exec", "--backend", "sim", PROGRAM, cwd=str(tmp_path), env={"SIMRAY_SHUTDOWN_GRACE": "0"}
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "ran after the driver ended: []" in proc.stdout


def test_the_local_backend_drains_too(tmp_path):
    """Real processes: shutdown waits (up to the grace period, here generous so that a loaded
    machine cannot fail it; it returns as soon as the tasks are done) for tasks never waited on."""
    proc = run_simray(
        "exec",
        "--backend",
        "local",
        PROGRAM,
        cwd=str(tmp_path),
        env={"SIMRAY_SHUTDOWN_GRACE": "60"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(PROGRAM[:-3] + ".expected", encoding="utf-8") as f:
        assert proc.stdout == f.read()


def test_a_bad_grace_period_is_refused_before_anything_starts(tmp_path):
    proc = run_simray(
        "exec", "--backend", "local", PROGRAM, cwd=str(tmp_path), env={"SIMRAY_SHUTDOWN_GRACE": "x"}
    )
    assert proc.returncode != 0
    assert "SIMRAY_SHUTDOWN_GRACE must be a number of seconds >= 0" in proc.stderr
