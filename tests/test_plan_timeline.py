"""`simray plan` on a run recorded with Ray's own `ray timeline` export: the fixture
`data/ray_timeline_pipeline.json` was written by `ray.timeline(filename=...)` on real Ray 2.60
(program: `data/ray_timeline_pipeline.py`); its measured task durations are replayed on other
cluster specs."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

from simray._model.cluster_spec import SpecError
from simray._plan import main as plan_main
from simray._plan import workload

DATA = pathlib.Path(__file__).parent / "data"
TIMELINE = DATA / "ray_timeline_pipeline.json"


def _recorded(path=TIMELINE):
    """(name, start s, duration s) of each task execution event of the export."""
    events = json.loads(pathlib.Path(path).read_text())
    return [
        (e["cat"][6:], e["ts"] / 1e6, e["dur"] / 1e6)
        for e in events
        if e["cat"].startswith("task::") and e["ph"] == "X"
    ]


def _cluster(cpus: int, gpus: int) -> str:
    return (
        'head_node_type = "head"\nmax_workers = 0\n'
        f"[node_types.head]\nresources = {{ CPU = {cpus}, GPU = {gpus} }}\n"
    )


def _plan(tmp_path, cluster: str, timeline=TIMELINE, after: bool = True) -> pathlib.Path:
    (tmp_path / "cluster.toml").write_text(cluster)
    spec = tmp_path / "plan.toml"
    spec.write_text(
        'cluster = "cluster.toml"\n[workload]\nkind = "ray_timeline"\n'
        f'path = "{timeline}"\n'
        "resources = { train = { CPU = 1, GPU = 1 }, evaluate = { CPU = 2 } }\n"
        + ('after = { train = "prepare", evaluate = "train" }\n' if after else "")
    )
    return spec


def _makespan(spec, capsys) -> float:
    assert plan_main([str(spec), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["makespan_s"]


def test_the_export_becomes_jobs_with_measured_durations():
    rec = _recorded()
    jobs = workload.ray_timeline("t", str(TIMELINE), {"train": {"CPU": 1, "GPU": 1}})
    assert len(jobs) == len(rec) == 9
    assert sorted(j.duration for j in jobs) == pytest.approx(sorted(d for _, _, d in rec))
    assert {j.group for j in jobs} == {"prepare", "train", "evaluate"}
    train = [j for j in jobs if j.group == "train"]
    assert all(j.pod.num_gpu == 1 and j.pod.cpu == 1000 for j in train)
    evaluate = next(j for j in jobs if j.group == "evaluate")
    assert evaluate.pod.cpu == 1000  # not in resources: Ray's default of one CPU
    assert min(j.submit for j in jobs) == 0.0


def test_replay_on_the_recorded_cluster_gives_the_recorded_makespan(tmp_path, capsys):
    rec = _recorded()
    recorded = max(s + d for _, s, d in rec) - min(s for _, s, _ in rec)
    makespan = _makespan(_plan(tmp_path, _cluster(4, 2)), capsys)
    assert makespan == pytest.approx(recorded, rel=0.1)


def test_one_gpu_serialises_the_two_trainings(tmp_path, capsys):
    same = _makespan(_plan(tmp_path, _cluster(4, 2)), capsys)
    one_gpu = _makespan(_plan(tmp_path, _cluster(4, 1)), capsys)
    shortest_train = min(d for n, _, d in _recorded() if n == "train")
    assert one_gpu >= same + 0.9 * shortest_train
    # more CPUs let all six prepares run at once: never slower than the recorded cluster
    wide = _makespan(_plan(tmp_path, _cluster(8, 2)), capsys)
    assert wide <= same + 1e-6


def test_without_after_the_measured_start_times_keep_the_order(tmp_path, capsys):
    rec = _recorded()
    t0 = min(s for _, s, _ in rec)
    jobs = workload.ray_timeline("t", str(TIMELINE))
    assert [j.submit for j in jobs] == pytest.approx(sorted(s - t0 for _, s, _ in rec))
    assert all(j.after is None for j in jobs)
    assert _makespan(_plan(tmp_path, _cluster(4, 2), after=False), capsys) > 0


def test_bad_timeline_specs_name_the_rule(tmp_path):
    with pytest.raises(SpecError, match=r"names task 'fit'; the timeline's tasks are"):
        workload.ray_timeline("p", str(TIMELINE), {"fit": {"CPU": 1}})
    with pytest.raises(SpecError, match="cycle through"):
        workload.ray_timeline("p", str(TIMELINE), None, {"train": "evaluate", "evaluate": "train"})
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(SpecError, match="not a Chrome trace JSON file"):
        workload.ray_timeline("p", str(bad))
    bad.write_text("[]")
    with pytest.raises(SpecError, match="no task events"):
        workload.ray_timeline("p", str(bad))


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_a_fresh_real_ray_timeline_is_accepted(tmp_path, capsys):
    """Record the fixture's program again on real Ray 2.60 and plan it: the export format the
    planner reads is the one this Ray writes."""
    pytest.importorskip("ray")
    out = tmp_path / "timeline.json"
    env = dict(os.environ, RAY_TMPDIR=tempfile.mkdtemp())
    subprocess.run(
        [sys.executable, str(DATA / "ray_timeline_pipeline.py"), str(out)],
        check=True,
        env=env,
        timeout=300,
        capture_output=True,
    )
    rec = _recorded(out)
    assert sorted(n for n, _, _ in rec) == ["evaluate"] + ["prepare"] * 6 + ["train"] * 2
    makespan = _makespan(_plan(tmp_path, _cluster(4, 2), timeline=out), capsys)
    # the critical path: the longest prepare, a training, the evaluation
    path = (
        max(d for n, _, d in rec if n == "prepare")
        + min(d for n, _, d in rec if n == "train")
        + next(d for n, _, d in rec if n == "evaluate")
    )
    assert makespan >= 0.99 * path
