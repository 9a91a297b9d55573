"""`ray.util.state` on sim against real Ray 2.60: one fixed workload (`state_compare/workload.py`)
runs on both, and the field names (with and without `detail`), each field's value types, the
rows' shape (names, types, states, error types, number of events) and the summaries' structure
must be the same.

Real Ray answers the state API through its dashboard, which only `ray[default]` installs, so
this test is skipped (with that reason) where the dashboard's dependencies are absent. Values
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
            f"(pip install -e '.[ray-dashboard]', i.e. ray[default]==2.60.0): {e}"
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
