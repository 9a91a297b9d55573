"""A day of GPU training on a 3-node cluster, simulated in a blink.

Preprocess 48 shards on CPUs, fine-tune 12 models on A100 GPUs (one GPU each), then score every
model with half a GPU. Real Ray would need that cluster for well over an hour; on simray's
`sim` backend it takes milliseconds and prints the same lines every run.

    simray exec scenarios/training_pipeline.py
"""

import random
import time

import ray
from ray.cluster_utils import Cluster
from ray.util.accelerators import NVIDIA_A100

rng = random.Random(7)
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 8})
for _ in range(2):
    cluster.add_node(num_cpus=16, num_gpus=4, resources={f"accelerator_type:{NVIDIA_A100}": 1})
ray.init(address=cluster.address)
start = time.time()


@ray.remote(num_cpus=2)
def preprocess(shard: int, seconds: float) -> int:
    time.sleep(seconds)
    return shard


@ray.remote(num_gpus=1, accelerator_type=NVIDIA_A100)
def fine_tune(model: int, shards: list) -> dict:
    time.sleep(1800 + 60 * len(ray.get(shards)))
    return {"model": model, "gpu": ray.get_gpu_ids()[0]}


@ray.remote(num_gpus=0.5)
def score(checkpoint: dict) -> float:
    time.sleep(300)
    return round(0.5 + checkpoint["model"] / 100, 2)


def minutes() -> str:
    return f"{(time.time() - start) / 60:.1f} min"


print(
    "cluster:",
    {
        k: v
        for k, v in sorted(ray.cluster_resources().items())
        if ":" not in k and k in ("CPU", "GPU")
    },
)
shards = [preprocess.remote(i, rng.uniform(30, 90)) for i in range(48)]
ready, _ = ray.wait(shards, num_returns=len(shards))
print(f"preprocessed {len(ready)} shards at {minutes()}")
checkpoints = [fine_tune.remote(m, shards[4 * m : 4 * m + 4]) for m in range(12)]
done = ray.get(checkpoints)
print(f"fine-tuned {len(done)} models at {minutes()}")
scores = ray.get([score.remote(c) for c in checkpoints])
best = max(range(len(scores)), key=scores.__getitem__)
print(f"scored at {minutes()}: best model {best} with {scores[best]}")
ray.shutdown()
cluster.shutdown()
