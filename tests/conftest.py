"""Shared test setup: every test starts and ends with no simray session."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import simray

# Property tests check invariants, not speed: on a loaded 2-core CI machine an example can take
# seconds, so hypothesis's per-example deadline (200 ms) and its too-slow check would turn load
# into failures. Every other setting keeps hypothesis's default (or the test's own @settings).
settings.register_profile(
    "simray",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("simray")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _no_leftover_session():
    yield
    if simray.is_initialized():
        simray.shutdown()


@pytest.fixture(autouse=True)
def zero_latency(monkeypatch):
    """In-process sessions use the zero-cost latency model (`SIMRAY_SIM_LATENCY=0`), so unit
    tests can check the schedule's exact arithmetic in virtual time; tests of the latency model
    ask for it (`init(_latency=...)`), and programs run by `run_simray` get the default model."""
    monkeypatch.setenv("SIMRAY_SIM_LATENCY", "0")


def run_simray(*args: str, cwd: str, env: dict[str, str] | None = None, timeout: float = 600):
    """Run `python -m simray ARGS` in a subprocess; return the CompletedProcess, with the
    process's `pid` (the driver's: `simray exec` runs the script in that process)."""
    import subprocess

    full_env = dict(os.environ)
    full_env.pop("SIMRAY_BACKEND", None)
    full_env.pop("SIMRAY_SEED", None)
    full_env.pop("SIMRAY_TRACE", None)
    full_env.pop("SIMRAY_SIM_LATENCY", None)  # programs run with the default latency model
    full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    with subprocess.Popen(
        [sys.executable, "-m", "simray", *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    done.pid = proc.pid  # type: ignore[attr-defined]
    return done


@pytest.fixture
def ray_tmpdir():
    """A fresh, short RAY_TMPDIR for one real-Ray run.

    `ray.cluster_utils.Cluster.shutdown()` leaves Ray's address file behind, and a later bare
    `ray.init()` would try to join that dead cluster; a private temp dir keeps runs apart. It
    is short because Ray puts unix sockets under it (path length limit).
    """
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)
