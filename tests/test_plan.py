"""`simray plan`: workloads, reports (table, JSON, HTML in a real headless Chromium), sweeps,
SLO choice, placement policies (FGD and a plug-in), cluster spec errors."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simray._model import cluster_spec
from simray._plan import main as plan_main
from simray._plan import packing

CLUSTER = """
head_node_type = "head"
max_workers = 20
idle_timeout_minutes = 1
[node_types.head]
resources = { CPU = 2 }
[node_types.cpu8]
resources = { CPU = 8 }
max_workers = 20
launch_delay_s = 60
price_per_hour = 0.5
[node_types.gpu2]
resources = { CPU = 8, GPU = 2 }
max_workers = 4
launch_delay_s = { dist = "uniform", low = 60, high = 120 }
price_per_hour = 2.0
"""

PLAN = """
cluster = "cluster.toml"
[workload]
kind = "tasks"
[[workload.groups]]
name = "prep"
count = 200
resources = { CPU = 1 }
duration_s = { dist = "uniform", low = 20, high = 40 }
arrival = { process = "poisson", rate_per_s = 2 }
[[workload.groups]]
name = "train"
count = 4
resources = { CPU = 2, GPU = 1 }
duration_s = 300
after = "prep"
[[workload.groups]]
name = "too_big"
count = 1
resources = { GPU = 4 }
duration_s = 1
"""


@pytest.fixture
def spec_dir(tmp_path):
    (tmp_path / "cluster.toml").write_text(CLUSTER)
    (tmp_path / "plan.toml").write_text(PLAN)
    return tmp_path


def test_json_report_keys_and_values(spec_dir, capsys):
    assert plan_main([str(spec_dir / "plan.toml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["makespan_s"], float)
    for key in ("wait_s", "jct_s"):
        assert set(out[key]) == {"p50", "p90", "p99"}
    assert out["jobs"] == 205
    assert out["finished"] == 204
    # train starts after prep ended: the makespan covers a launch, prep and 300 s of training
    assert out["makespan_s"] > 300 + 60
    assert out["node_hours"]["gpu2"] > 0
    assert out["cost"]["total"] == pytest.approx(
        sum(v for k, v in out["cost"].items() if k != "total"), abs=1e-3
    )
    assert out["cost"]["gpu2"] == pytest.approx(out["node_hours"]["gpu2"] * 2.0, rel=1e-3)
    assert set(out["utilisation"]) == {"CPU", "GPU"}
    assert len(out["unserved"]) == 1
    assert out["unserved"][0]["jobs"] == 1
    assert (
        "No available node types can fulfill resource request {'GPU': 4.0}"
        in (out["unserved"][0]["reason"])
    )


def test_same_seed_same_report(spec_dir, capsys):
    plan_main([str(spec_dir / "plan.toml"), "--json"])
    a = capsys.readouterr().out
    plan_main([str(spec_dir / "plan.toml"), "--json"])
    assert capsys.readouterr().out == a


def test_sweep_and_slo_pick_the_cheapest(spec_dir, capsys):
    code = plan_main(
        [
            str(spec_dir / "plan.toml"),
            "--sweep",
            "cluster.node_types.cpu8.max_workers=1,4,16",
            "--slo",
            "p90_wait<=120",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    runs = out["result"]["runs"]
    assert [r["config"] for r in runs] == [
        f"cluster.node_types.cpu8.max_workers={n}" for n in (1, 4, 16)
    ]
    meeting = [r for r in runs if r["wait_s"]["p90"] <= 120]
    assert meeting
    cheapest = min(meeting, key=lambda r: r["cost"]["total"])
    assert out["chosen"] == cheapest["config"]
    # fewer workers, longer waits
    assert runs[0]["wait_s"]["p90"] > runs[2]["wait_s"]["p90"]


def test_table_output(spec_dir, capsys):
    assert plan_main([str(spec_dir / "plan.toml")]) == 0
    text = capsys.readouterr().out
    assert "makespan" in text
    assert "gpu2" in text
    assert "unserved        1 job(s)" in text


def test_html_report_in_headless_chromium(spec_dir, capsys):
    page = spec_dir / "report.html"
    code = plan_main([str(spec_dir / "plan.toml"), "--html", str(page), "--sweep", "plan.seed=1,2"])
    assert code == 0
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the HTML test needs Debian's chromium: apt-get install -y chromium"
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert '<table id="comparison">' in dom
    assert dom.count("<tr>") == 3  # header + two runs
    assert "plan.seed=1" in dom
    assert "plan.seed=2" in dom
    from simray._plan import plots

    if plots.available():  # the plot extra: inline PNGs; utilisation and nodes per run (the
        # GPU jobs arrive before any GPU node is up, so there is no allocation curve to draw)
        assert dom.count("data:image/png;base64,") == 4
    else:  # inline SVG: nodes and utilisation per run
        assert dom.count("<svg") == 4
        assert "<polyline" in dom


def test_philly_format_trace(tmp_path, capsys):
    (tmp_path / "cluster.toml").write_text(
        'head_node_type = "head"\nmax_workers = 2\n'
        "[node_types.head]\nresources = { CPU = 0 }\n"
        "[node_types.gpu8]\nresources = { CPU = 64, GPU = 8 }\n"
        "min_workers = 2\nmax_workers = 2\nlaunch_delay_s = 0\n"
    )
    (tmp_path / "jobs.csv").write_text(
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-10-01 00:00:00,100,8,800,a\n"
        "2017-10-01 00:00:00,100,8,800,a\n"
        "2017-10-01 00:00:10,50,8,400,a\n"
        "2017-10-01 00:00:20,10,16,160,a\n"
    )
    (tmp_path / "plan.toml").write_text(
        'cluster = "cluster.toml"\n[workload]\nkind = "trace"\nformat = "philly"\n'
        'path = "jobs.csv"\n'
    )
    assert plan_main([str(tmp_path / "plan.toml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["finished"] == 3
    # the third job waits for one of the first two (t=100), then runs 50 s
    assert out["makespan_s"] == pytest.approx(150.0)
    assert out["wait_s"]["p50"] == 0
    assert out["wait_s"]["p99"] == pytest.approx(0.98 * 90)  # waits 0, 0, 90 (interpolated)
    assert "GPU 16 > largest node type's 8" in out["unserved"][0]["reason"]


def test_simray_trace_replay(tmp_path, capsys):
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import time\nimport simray as ray\nray.init(num_cpus=2)\n"
        "@ray.remote\ndef f():\n    time.sleep(30)\n"
        "ray.get([f.remote() for _ in range(4)])\nray.shutdown()\n"
    )
    trace = tmp_path / "t.jsonl"
    env = dict(os.environ, SIMRAY_TRACE=str(trace))
    subprocess.run([sys.executable, str(prog)], env=env, check=True, cwd=tmp_path)
    (tmp_path / "cluster.toml").write_text(
        'head_node_type = "head"\nmax_workers = 0\n[node_types.head]\nresources = { CPU = 4 }\n'
    )
    (tmp_path / "plan.toml").write_text(
        'cluster = "cluster.toml"\n[workload]\nkind = "simray_trace"\npath = "t.jsonl"\n'
    )
    assert plan_main([str(tmp_path / "plan.toml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # 2 CPUs took 60 s for four 30 s tasks; 4 CPUs take 30 s
    assert out["finished"] == 4
    assert out["makespan_s"] == pytest.approx(30.0)


def test_bad_specs_name_file_key_and_fix(tmp_path, capsys):
    bad = tmp_path / "c.toml"
    bad.write_text('head_node_type = "head"\n[node_types.head]\nresources = { CPU = "four" }\n')
    with pytest.raises(cluster_spec.SpecError, match=r"c\.toml: node_types\.head\.resources\.CPU"):
        cluster_spec.load(bad)
    bad.write_text('head_node_type = "nope"\n[node_types.head]\nresources = { CPU = 4 }\n')
    with pytest.raises(cluster_spec.SpecError, match=r"head_node_type = 'nope' .* choose one of"):
        cluster_spec.load(bad)
    bad.write_text(
        'max_workers = 1\nhead_node_type = "h"\n[node_types.h]\nresources = {CPU=1}\n'
        "[node_types.w]\nresources = {CPU=1}\nmin_workers = 3\n"
    )
    with pytest.raises(cluster_spec.SpecError, match="smaller than the sum of min_workers"):
        cluster_spec.load(bad)
    bad.write_text(
        'head_node_type = "h"\n[node_types.h]\nresources = {CPU=1}\n'
        '[node_types.w]\nresources = {CPU=1}\nlaunch_delay_s = { dist = "gamma" }\n'
    )
    with pytest.raises(cluster_spec.SpecError, match="launch_delay_s.dist must be one of"):
        cluster_spec.load(bad)
    bad.write_text('head_node_type = "h"\n[node_types.h]\nresources = {CPU=1}\n')
    plan = tmp_path / "p.toml"
    plan.write_text('cluster = "c.toml"\n[workload]\nkind = "nope"\n')
    assert plan_main([str(plan)]) == 2
    assert "workload.kind must be" in capsys.readouterr().err


def test_ray_yaml_spec_is_read(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "c.yaml").write_text(
        "cluster_name: x\nmax_workers: 4\nupscaling_speed: 2.0\nidle_timeout_minutes: 3\n"
        "provider: {type: aws}\nhead_node_type: head\navailable_node_types:\n"
        "  head: {resources: {CPU: 2}, node_config: {}}\n"
        "  w: {resources: {CPU: 8, GPU: 1}, node_config: {}, min_workers: 1, max_workers: 3}\n"
    )
    spec = cluster_spec.load(tmp_path / "c.yaml")
    assert spec.upscaling_speed == 2.0
    assert spec.node_types["w"].min_workers == 1
    assert spec.node_types["head"].max_workers == 0
    assert spec.ray_node_types()["w"]["resources"] == {"CPU": 8, "GPU": 1}


# -- packing policies ----------------------------------------------------------------------------


def _nodes():
    return [packing.Node(f"n{i}", 16000, 65536, 2) for i in range(3)]


def test_fragmentation_measure():
    typical = [(packing.Pod(1000, 0, 1, 500), 0.5), (packing.Pod(1000, 0, 1, 1000), 0.5)]
    # one GPU with 300 free, one whole: the half-GPU type cannot use the 300 (frag 0.5 * 300),
    # the whole-GPU type cannot either (0.5 * 300)
    assert packing.fragmentation((8000, 0, (300, 1000)), typical) == pytest.approx(300)
    # no CPU left: every free GPU share is fragment
    assert packing.fragmentation((0, 0, (300, 1000)), typical) == pytest.approx(1300)


def test_fgd_packs_shares_to_keep_whole_gpus():
    pods = [packing.Pod(1000, 0, 1, 500)] * 4 + [packing.Pod(1000, 0, 1, 1000)] * 4
    cluster = packing.Cluster(_nodes())
    fgd = packing.make_policy("fgd", pods)
    rng = random.Random(0)
    for pod in [packing.Pod(1000, 0, 1, 500)] * 2:
        choice = fgd(cluster, pod, rng)
        cluster.place(choice, pod)
    # the two halves share one GPU: five whole GPUs stay free
    free = sorted(g for n in cluster.nodes for g in n.gpu_free)
    assert free == [0, 1000, 1000, 1000, 1000, 1000]


def test_plugin_policy_hook():
    calls = []

    def first_node(workload):
        def policy(cluster, pod, rng):
            calls.append(pod)
            for n in sorted(cluster.nodes, key=lambda n: n.name):
                if packing.fits_state(n.state(), pod):
                    return packing.Choice(n, packing.gpu_indices(n, pod))
            return None

        return policy

    packing.register_policy("first_node", first_node)
    try:
        cluster = packing.Cluster(_nodes())
        policy = packing.make_policy("first_node", [])
        pod = packing.Pod(1000, 0, 1, 1000)
        cluster.place(policy(cluster, pod, random.Random(0)), pod)
        assert cluster.nodes[0].gpu_free == [0, 1000]
        assert calls == [pod]
    finally:
        del packing.POLICIES["first_node"]
    with pytest.raises(ValueError, match="unknown placement policy 'first_node'"):
        packing.make_policy("first_node", [])


def test_trace_times_do_not_depend_on_the_machine_zone(tmp_path, monkeypatch):
    """Dates in a trace are UTC: a daylight-saving change of the machine's zone inside the
    trace (New York, 2017-11-05) does not stretch the time between two jobs."""
    import time

    from simray._plan import workload

    path = tmp_path / "jobs.csv"
    path.write_text(
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-11-05 00:00:00,10,1,10,a\n"
        "2017-11-05 12:00:00,10,1,10,a\n"
    )
    try:
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        jobs = workload.csv_trace("plan.toml", str(path), "philly")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [j.submit for j in jobs] == [0.0, 12 * 3600.0]


def test_bad_trace_value_names_file_line_and_fix(tmp_path, capsys):
    (tmp_path / "cluster.toml").write_text(
        'head_node_type = "head"\n[node_types.head]\nresources = { CPU = 8, GPU = 8 }\n'
    )
    (tmp_path / "jobs.csv").write_text(
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-10-01 00:00:00,100,8,800,a\n"
        "yesterday,100,8,800,a\n"
    )
    (tmp_path / "short.csv").write_text("timestamp,duration,num_gpus,gpu_time,cluster\n0,100\n")
    (tmp_path / "plan.toml").write_text(
        'cluster = "cluster.toml"\n[workload]\nkind = "trace"\nformat = "philly"\n'
        'path = "jobs.csv"\n'
    )
    assert plan_main([str(tmp_path / "plan.toml")]) == 2
    err = capsys.readouterr().err
    assert "jobs.csv line 3" in err
    assert "'yesterday' is neither seconds nor a date and time" in err
    assert "fix the trace" in err
    (tmp_path / "plan.toml").write_text(
        (tmp_path / "plan.toml").read_text().replace("jobs.csv", "short.csv")
    )
    assert plan_main([str(tmp_path / "plan.toml")]) == 2
    assert "short.csv line 2 has fewer fields than the header" in capsys.readouterr().err


def test_typical_pods_keep_the_most_common_types_up_to_the_popularity_cut():
    pods = (
        [packing.Pod(1000, 5, 1, 500)] * 6  # memory is not part of a type
        + [packing.Pod(1000, 9, 1, 500)] * 2
        + [packing.Pod(2000, 0, 1, 1000)] * 1
        + [packing.Pod(4000, 0, 0, 0)] * 1
    )
    full = packing.typical_pods(pods)
    assert [(p.cpu, p.num_gpu, p.gpu_milli) for p, _ in full] == [
        (1000, 1, 500),
        (4000, 0, 0),  # ties: larger CPU first, as the artifact's sort.Reverse
        (2000, 1, 1000),
    ]
    assert [w for _, w in full] == pytest.approx([0.8, 0.1, 0.1])
    cut = packing.typical_pods(pods, popularity=0.85)
    assert [(p.cpu, w) for p, w in cut] == [
        (1000, pytest.approx(8 / 9)),
        (4000, pytest.approx(1 / 9)),
    ]


def test_fgd_puts_a_share_on_the_lowest_index_gpu_with_the_best_score():
    node = packing.Node("n", 16000, 65536, 4)
    node.gpu_free = [600, 1000, 600, 1000]
    cluster = packing.Cluster([node])
    fgd = packing.FGD([(packing.Pod(1000, 0, 1, 500), 1.0)])
    choice = fgd(cluster, packing.Pod(1000, 0, 1, 500), random.Random(0))
    # 500 from a 600 leaves a 100 no 500-pod can use; from a whole GPU it leaves a usable 500.
    # Both whole GPUs score the same: the lowest index wins (best-fit would take GPU 0)
    assert choice.gpus == [(1, 500)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([500, 1000, 2000, 4000]),
            st.sampled_from([(0, 0), (1, 250), (1, 500), (1, 1000), (2, 1000)]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["fgd", "best_fit", "random", "spread", "ray_default"]),
    st.integers(0, 3),
    st.booleans(),
)
def test_groups_partition_the_nodes_by_state(requests, name, seed, compact):
    """Whatever a policy places, `Cluster.groups` holds every node once, under its own state
    (and, compacted, no empty group)."""
    pods = [packing.Pod(c, 0, n, m) for c, (n, m) in requests]
    cluster = packing.Cluster(
        [packing.Node(f"n{i}", 8000, 1 << 20, 2 + i % 3) for i in range(4)], compact=compact
    )
    policy = packing.make_policy(name, pods)
    rng = random.Random(seed)
    for pod in pods:
        choice = policy(cluster, pod, rng)
        if choice is not None:
            cluster.place(choice, pod)
    assert sorted(id(n) for ns in cluster.groups.values() for n in ns) == sorted(
        id(n) for n in cluster.nodes
    )
    for state, ns in cluster.groups.items():
        assert all(n.state() == state for n in ns)
        assert ns or not compact
    assert cluster.gpu_allocated == sum(n.gpus * 1000 - sum(n.gpu_free) for n in cluster.nodes)
