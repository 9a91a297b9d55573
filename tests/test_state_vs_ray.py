"""`ray.util.state` on sim against real Ray 2.60: one fixed workload (`state_compare/workload.py`)
runs on both, and the field names (with and without `detail`), each field's value types, the
rows' shape (names, types, states, error types, number of events) and the summaries' structure
must be the same.

Real Ray answers the state API through its dashboard, which only `ray[default]` installs, so
this test is skipped (with that reason) where the dashboard's dependencies are absent, and
fails instead under CI, which installs them (the `ray` extra is `ray[default]`). Values
that cannot be equal are not compared: ids, pids, IPs, times and sizes (sim's clock is virtual,
its ids come from the seed), and the worker list beyond the driver (Ray keeps idle pooled worker
processes, a simulation has none). Nested values are not compared either: a normal task's
`task_log_info` holds Ray's log file paths, and None paths on sim, which writes no log files.
"""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from tests.conftest import run_simray

WORKLOAD = os.path.join(os.path.dirname(__file__), "state_compare", "workload.py")


def _dashboard_missing() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return "real Ray is not installed (pip install -e '.[ray]')"
    try:
        import ray.dashboard.optional_deps  # noqa: F401
    except ImportError as e:
        return (
            "real Ray's state API needs its dashboard, which only ray[default] installs "
            f"(pip install -e '.[ray]', i.e. ray[default]==2.60.0): {e}"
        )
    return None


def _same_types(sim: list[str], ray: list[str]) -> bool:
    """Equal value types, but for a None Ray reports while it has not filled the field yet."""
    return set(sim) - {"NoneType"} == set(ray) - {"NoneType"} and (
        "NoneType" not in sim or "NoneType" in ray
    )


def _run(backend: str, tmp_path, env: dict[str, str] | None = None) -> dict:
    proc = run_simray("exec", "--backend", backend, WORKLOAD, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, f"the workload on {backend} failed:\n{proc.stderr[-4000:]}"
    document = [line for line in proc.stdout.splitlines() if line.startswith('{"')]
    assert len(document) == 1, f"the workload on {backend} printed:\n{proc.stdout[-4000:]}"
    return json.loads(document[0])


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_state_api_matches_real_ray(tmp_path, ray_tmpdir):
    missing = _dashboard_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must compare the state API with real Ray: {missing}")
    if missing:
        pytest.skip(missing)
    sim = _run("sim", tmp_path)
    ray = _run("ray", tmp_path, env={"RAY_TMPDIR": ray_tmpdir})
    assert sorted(sim) == sorted(ray)
    for kind in sorted(ray):
        for key in sorted(ray[kind]):
            if key == "types":
                # Ray fills some fields of a row later than its state (eventual consistency),
                # so a None there is allowed; sim's types otherwise equal Ray's.
                differ = {
                    field: (sim[kind][key].get(field), types)
                    for field, types in ray[kind][key].items()
                    if not _same_types(sim[kind][key].get(field) or [], types)
                }
                assert not differ, f"{kind}: value types (sim, ray) differ: {differ}"
            else:
                assert sim[kind][key] == ray[kind][key], f"{kind} {key}"


ON_RAY_BACKEND = """
import simray
from simray.util import state

simray.init(num_cpus=1, backend="ray", include_dashboard=True)
print("nodes", [n.state for n in state.list_nodes(detail=True, timeout=60)])
try:  # Ray's own function got the address: it finds no dashboard there
    state.list_nodes(address="http://127.0.0.1:1", timeout=5)
except Exception as e:
    print("address reached Ray:", "127.0.0.1:1" in str(e))
print("actors", state.summarize_actors(timeout=60)["cluster"]["total_actors"])
simray.shutdown()
"""


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_state_api_on_the_ray_backend_is_ray_s_with_every_argument(tmp_path, ray_tmpdir):
    """A program written against simray, on `init(backend="ray")`: each state function is
    Ray's, called with the arguments as given (an `address` too, which reaches Ray)."""
    import subprocess
    import sys

    missing = _dashboard_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must run the state API on real Ray: {missing}")
    if missing:
        pytest.skip(missing)
    program = tmp_path / "prog.py"
    program.write_text(ON_RAY_BACKEND)
    env = dict(os.environ, RAY_TMPDIR=ray_tmpdir)
    proc = subprocess.run(
        [sys.executable, str(program)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.splitlines() == ["nodes ['ALIVE']", "address reached Ray: True", "actors 0"]
