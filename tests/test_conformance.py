"""The conformance programs: each prints the same lines on `sim`, `local` and real Ray 2.60.

Expected outputs were captured from real Ray; CI runs every program on real Ray too (one at a
time, in one xdist group), so an expected file cannot drift from the truth. On `local` each run
is also checked for leaks: no process of the run and no shm segment of it may outlive it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import uuid

import pytest

from tests.conftest import run_simray
from tests.local_leaks import shm_segments, tagged, wait_gone

PROGRAMS_DIR = os.path.join(os.path.dirname(__file__), "conformance", "programs")
PROGRAMS = sorted(
    os.path.basename(p)[:-3]
    for p in glob.glob(os.path.join(PROGRAMS_DIR, "*.py"))
    if os.path.exists(p[:-3] + ".expected")
)


def _expected(name: str) -> str:
    with open(os.path.join(PROGRAMS_DIR, name + ".expected"), encoding="utf-8") as f:
        return f.read()


def _run(name: str, backend: str, tmp_path, env: dict[str, str] | None = None) -> tuple[str, int]:
    proc = run_simray(
        "exec",
        "--backend",
        backend,
        os.path.join(PROGRAMS_DIR, name + ".py"),
        cwd=str(tmp_path),
        env=env,
        # Real Ray's dashboard only where the program reads ray.util.state from it, its
        # autoscaler monitor only where the program prints the monitor's notices.
        ray_dashboard=backend != "ray" or name in NEEDS_DASHBOARD,
        ray_autoscaler_monitor=name in NEEDS_AUTOSCALER_MONITOR,
    )
    assert proc.returncode == 0, (
        f"{name} on {backend} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    )
    return proc.stdout, proc.pid


def test_enough_programs():
    assert len(PROGRAMS) >= 25, PROGRAMS


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_on_sim(name, tmp_path):
    assert _run(name, "sim", tmp_path)[0] == _expected(name)


# Programs whose feature the local backend does not have yet (strict: an unexpected pass fails,
# so the entry goes when the feature comes).
LOCAL_GAPS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=LOCAL_GAPS[n]))
        if n in LOCAL_GAPS
        else n
        for n in PROGRAMS
    ],
)
def test_program_on_local(name, tmp_path):
    tag = uuid.uuid4().hex
    out, driver = _run(name, "local", tmp_path, env={"SIMRAY_TEST_TAG": tag})
    assert not wait_gone(lambda: tagged(tag)), f"{name} left processes behind"
    # This run's segments only (named after its driver's pid): /dev/shm is shared with every
    # other run on the machine, whose leaks, or whose SIGKILLed driver's segments awaiting their
    # fork server's cleanup, must not fail this program.
    left = shm_segments(driver)
    assert not left, f"{name} left shared-memory segments behind: {left}"
    assert out == _expected(name)


def _ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


# Programs that call ray.util.state: real Ray serves it from its dashboard (ray[default]); the
# others run real Ray with the dashboard off, which spares each start-up its head modules.
NEEDS_DASHBOARD = {"71_list_objects", "201_actor_death_cause", "206_actor_sigterm_pid"}

# Programs that print the autoscaler monitor's `(autoscaler +Ns)` notices about infeasible
# requests (the monitor's only output on a one-node cluster): the others run real Ray without
# the monitor, which spares each start-up a process and each shutdown a second (the monitor
# ignores SIGTERM, and Ray waits 1 s before it SIGKILLs it). A program whose infeasible requests
# last long enough for a notice and that does not print it sets RAY_SCHEDULER_EVENTS=0.
NEEDS_AUTOSCALER_MONITOR = {
    "190_infeasible_notice",
    "191_infeasible_notice_repeat",
    "192_scheduler_events_read_at_import",
}


def _dashboard_available() -> bool:
    try:
        import ray.dashboard.optional_deps  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
@pytest.mark.parametrize("name", PROGRAMS)
def test_program_on_real_ray(name, tmp_path, ray_tmpdir):
    if not _ray_available():
        if os.environ.get("CI"):
            pytest.fail("CI must run the conformance programs on real Ray: install simray[ray]")
        pytest.skip("real Ray is not installed (pip install -e '.[ray]')")
    if name in NEEDS_DASHBOARD and not _dashboard_available():
        reason = (
            f"{name} calls ray.util.state, which real Ray answers through its dashboard, and "
            "this Ray has no dashboard: pip install -e '.[ray]' (ray[default]==2.60.0)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every program on real Ray: {reason}")
        pytest.skip(reason)
    assert _run(name, "ray", tmp_path, env={"RAY_TMPDIR": ray_tmpdir})[0] == _expected(name)
