"""Same program and seed: byte-identical trace, in a fresh process, under another PYTHONHASHSEED."""

from __future__ import annotations

import json

from tests.conftest import run_simray

PROGRAM = """
import random, time
import ray
from ray.cluster_utils import Cluster

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
for gpus in (0, 1, 2):
    cluster.add_node(num_cpus=4, num_gpus=gpus)
for i in range(7):
    cluster.add_node(num_cpus=1)
ray.init(address=cluster.address)

@ray.remote
def leaf(i):
    time.sleep(0.5 + (i * 7919) % 10 / 10)
    return {"i": i}

@ray.remote(num_cpus=0.5)
def fan(n):
    return sum(x["i"] for x in ray.get([leaf.remote(i) for i in range(n)]))

@ray.remote(num_gpus=0.5, max_retries=0, retry_exceptions=True)
def flaky(i):
    time.sleep(1)
    if i % 3 == 0:
        raise ValueError(i)
    return i

refs = [fan.remote(n) for n in range(1, 12)] + [flaky.remote(i) for i in range(6)]
refs += [leaf.options(scheduling_strategy="SPREAD").remote(i) for i in range(20)]
ready, rest = ray.wait(refs, num_returns=10)
print(len(ready), len(rest))
for r in refs:
    try:
        ray.get(r)
    except ray.exceptions.RayTaskError as e:
        print("error", type(e.cause).__name__)
"""


def _trace(tmp_path, name: str, seed: int, hashseed: str) -> bytes:
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    trace = tmp_path / name
    proc = run_simray(
        "exec",
        "--seed",
        str(seed),
        "--trace",
        str(trace),
        str(script),
        cwd=str(tmp_path),
        env={"PYTHONHASHSEED": hashseed},
    )
    assert proc.returncode == 0, proc.stderr
    return trace.read_bytes()


def test_same_seed_same_trace_bytes_across_processes_and_hash_seeds(tmp_path):
    first = _trace(tmp_path, "a.jsonl", seed=7, hashseed="0")
    second = _trace(tmp_path, "b.jsonl", seed=7, hashseed="12345")
    assert first == second
    events = [json.loads(line) for line in first.decode().splitlines()]
    kinds = {e["event"] for e in events}
    assert {"node_added", "submit", "start", "block", "unblock", "finish"} <= kinds
    assert all(isinstance(e["t"], (int, float)) for e in events)
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)


def test_a_different_seed_may_place_differently_but_the_program_output_is_the_same(tmp_path):
    traces = {_trace(tmp_path, f"s{seed}.jsonl", seed=seed, hashseed="0") for seed in range(6)}
    # Ten nodes make Ray's top-k choice random: several seeds give several placements.
    assert len(traces) > 1
