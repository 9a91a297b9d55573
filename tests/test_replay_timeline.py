"""`simray timeline`: a sim trace becomes Chrome trace events (slices per node and worker)."""

from __future__ import annotations

import json
import time

import pytest

import simray
from simray import sim
from simray._timeline import chrome_trace_events
from simray.cluster import Cluster
from tests.conftest import run_simray


def _run_program(trace_path: str) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=2)
    simray.init(address=cluster.address, trace=trace_path)

    @simray.remote
    def leaf(x):
        time.sleep(5)
        return x

    @simray.remote
    def parent():
        return sum(simray.get([leaf.remote(i) for i in range(3)]))

    @simray.remote(num_cpus=2, max_retries=1)
    def doomed():
        time.sleep(100)
        return 1

    @simray.remote
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    assert simray.get(parent.remote()) == 3
    c = Counter.remote()
    assert simray.get([c.inc.remote() for _ in range(2)]) == [1, 2]
    ref = doomed.remote()
    time.sleep(1)
    sim.kill_node(worker.node_id)
    cluster.add_node(num_cpus=2)  # where the retry runs
    assert simray.get(ref) == 1
    simray.shutdown()
    cluster.shutdown()


@pytest.fixture
def events(tmp_path):
    path = str(tmp_path / "trace.jsonl")
    _run_program(path)
    with open(path, encoding="utf-8") as f:
        return chrome_trace_events(f)


def test_tasks_are_slices_per_node_and_worker_never_overlapping(events):
    tasks = [e for e in events if e.get("cat") == "task"]
    assert {e["name"] for e in tasks} >= {"parent", "leaf", "Counter.inc", "doomed"}
    by_thread: dict = {}
    for e in tasks:
        assert e["ph"] == "X"
        assert e["dur"] >= 0
        by_thread.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_thread.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end  # one worker runs one task at a time
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    for key in by_thread:
        assert key in names


def test_blocked_interval_nests_in_the_task_that_blocked(events):
    parent = next(e for e in events if e["name"] == "parent")
    blocked = [e for e in events if e.get("cat") == "blocked"]
    assert blocked
    b = next(e for e in blocked if e["args"]["task"] == parent["args"]["task"])
    assert (b["pid"], b["tid"]) == (parent["pid"], parent["tid"])
    assert parent["ts"] <= b["ts"]
    assert b["ts"] + b["dur"] <= parent["ts"] + parent["dur"]
    assert b["dur"] == pytest.approx(5_000_000)  # the leaves sleep 5 virtual seconds


def test_node_lifetime_ends_at_its_death_and_faults_are_instants(events):
    lives = {e["pid"]: e for e in events if e.get("cat") == "node"}
    assert set(lives) == {0, 1, 2}
    died = next(e for e in events if e["name"] == "node_died")
    assert died["ph"] == "i"
    assert died["pid"] == 1
    assert lives[1]["ts"] + lives[1]["dur"] == died["ts"]
    assert lives[0]["ts"] + lives[0]["dur"] >= died["ts"]
    doomed = [e for e in events if e["name"] == "doomed"]
    assert [e["args"]["ok"] for e in doomed] == [False, True]  # killed, then retried
    assert doomed[0]["pid"] == 1
    assert doomed[0]["ts"] + doomed[0]["dur"] == died["ts"]
    assert any(e["name"] == "retry" and e["ph"] == "i" for e in events)


def test_same_trace_same_timeline(tmp_path):
    outs = []
    for i in range(2):
        path = str(tmp_path / f"t{i}.jsonl")
        _run_program(path)
        with open(path, encoding="utf-8") as f:
            outs.append(json.dumps(chrome_trace_events(f)))
    assert outs[0] == outs[1]


def test_cli_writes_a_chrome_trace(tmp_path):
    trace = str(tmp_path / "trace.jsonl")
    _run_program(trace)
    out = tmp_path / "out.json"
    proc = run_simray("timeline", trace, "-o", str(out), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote ")
    data = json.loads(out.read_text())
    assert isinstance(data, list)
    assert any(e.get("ph") == "X" for e in data)


def test_cli_names_a_missing_or_broken_trace(tmp_path):
    proc = run_simray("timeline", "nope.jsonl", "-o", "o.json", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "no such trace file: nope.jsonl" in proc.stderr
    (tmp_path / "bad.jsonl").write_text('{"t": 0, "event": "submit"}\nnot json\n')
    proc = run_simray("timeline", "bad.jsonl", "-o", "o.json", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "trace line 2 is not JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
