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


def run_simray(
    *args: str,
    cwd: str,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    ray_dashboard: bool = True,
    ray_autoscaler_monitor: bool = True,
):
    """Run `python -m simray ARGS` in a subprocess; return the CompletedProcess, with the
    process's `pid` (the driver's: `simray exec` runs the script in that process).

    `ray_dashboard=False` runs it with real Ray's dashboard off unless the program asks for it,
    and Ray's start-up spared what only the dashboard needs (`tests/ray_without_dashboard.py`):
    for real-Ray runs that do not use `ray.util.state`. With it, `ray_autoscaler_monitor=False`
    starts no autoscaler monitor: for runs that do not read its infeasible-request notices.
    """
    import subprocess

    full_env = dict(os.environ)
    full_env.pop("SIMRAY_BACKEND", None)
    full_env.pop("SIMRAY_SEED", None)
    full_env.pop("SIMRAY_TRACE", None)
    full_env.pop("SIMRAY_SIM_LATENCY", None)  # programs run with the default latency model
    full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    launcher = ["-m", "simray"]
    if not ray_dashboard:
        launcher = [os.path.join(ROOT, "tests", "ray_without_dashboard.py")]
        if not ray_autoscaler_monitor:
            launcher.append("--no-autoscaler-monitor")
    with subprocess.Popen(
        [sys.executable, *launcher, *args],
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


REAL_RAY_GROUP = "real_ray"


def real_ray_grouping_errors(items: list[pytest.Item], loadgroup: bool | None) -> list[str]:
    """Why these selected tests could start two real Rays at once, if they could.

    Real-Ray tests run one at a time: two Rays on one machine contend for 2 cores and collide on
    the dashboard agent's fixed port 52365. Each must carry the `real_ray` marker and the
    `xdist_group("real_ray")` one together; under `--dist loadgroup` (`loadgroup` True) the
    group must be applied (the `@real_ray` suffix of the node id, by which xdist's controller
    groups). `loadgroup` None: not an xdist worker (one process, one test at a time).
    """
    errors = []
    real = []
    for item in items:
        marked = item.get_closest_marker("real_ray") is not None
        groups = {
            m.args[0] if m.args else m.kwargs.get("name") for m in item.iter_markers("xdist_group")
        }
        if marked != (REAL_RAY_GROUP in groups):
            errors.append(
                f"{item.nodeid}: a test that starts real Ray carries both "
                f"@pytest.mark.real_ray and @pytest.mark.xdist_group({REAL_RAY_GROUP!r}), "
                "and only such a test does"
            )
        if marked:
            real.append(item)
    if loadgroup is False and len(real) > 1:
        errors.append(
            f"{len(real)} real-Ray tests are selected under pytest-xdist without "
            "--dist loadgroup, so two could run at once: add --dist loadgroup"
        )
    if loadgroup and len(real) > 1:
        ungrouped = [i.nodeid for i in real if not i.nodeid.endswith("@" + REAL_RAY_GROUP)]
        if ungrouped:
            errors.append(
                f"pytest-xdist did not apply the {REAL_RAY_GROUP!r} group (e.g. {ungrouped[0]}), "
                "so real-Ray tests would run two at a time; see _apply_xdist_groups in "
                "tests/conftest.py"
            )
    return errors


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _apply_xdist_groups(config, items)


def _apply_xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each `xdist_group` test the node id suffix (`...@real_ray`) by which xdist's
    controller groups, where xdist could not: pytest-xdist 3.8 writes it to `item._nodeid`,
    which pytest 9.2 no longer reads (its node id is `item._id`), so under 9.2 every test was
    its own unit and CI ran real Rays two at a time. Under older pytest, xdist's suffix is there
    and this does nothing."""
    if not (hasattr(config, "workerinput") and config.option.loadgroup):
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(item.nodeid + suffix)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse a run whose selected real-Ray tests could start two Rays at once."""
    config = session.config
    loadgroup = config.option.loadgroup if hasattr(config, "workerinput") else None
    errors = real_ray_grouping_errors(session.items, loadgroup)
    if errors:
        raise pytest.UsageError("\n".join(errors))
