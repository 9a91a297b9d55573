"""The program behind ray_timeline_pipeline.json: a small pipeline on real Ray 2.60, prepare (6
tasks, 1 CPU) -> train (2 tasks, 1 CPU + 1 GPU, three prepares each) -> evaluate (2 CPUs),
recorded with Ray's own `ray.timeline(filename=...)` (Chrome trace events).

    RAY_TMPDIR=$(mktemp -d) python tests/data/ray_timeline_pipeline.py out.json
"""

import sys
import time

import ray

ray.init(num_cpus=4, num_gpus=2, include_dashboard=False)


@ray.remote(num_cpus=1)
def prepare(i):
    time.sleep(1.0 + 0.25 * i)
    return i


@ray.remote(num_cpus=1, num_gpus=1)
def train(*parts):
    time.sleep(3.0)
    return sum(parts)


@ray.remote(num_cpus=2)
def evaluate(a, b):
    time.sleep(1.5)
    return a + b


parts = [prepare.remote(i) for i in range(6)]
models = [train.remote(*parts[:3]), train.remote(*parts[3:])]
print(ray.get(evaluate.remote(*models)))
time.sleep(3)  # task events reach the GCS in batches
ray.timeline(filename=sys.argv[1])
ray.shutdown()
