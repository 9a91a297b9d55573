"""A worker node dies under running tasks: retries move the work to the survivors.

Three 4-CPU nodes; eight 10-minute tasks spread over them. At minute 5 one worker node is removed
(as a preempted machine would be). Tasks with retries left run again elsewhere; the one task
pinned to that node with `max_retries=0` fails with NodeDiedError. A task whose worker process
crashes (`os._exit`) on its first attempt is retried too. The trace shows every attempt.

    simray replay scenarios/fault_and_retries.py
    simray replay scenarios/fault_and_retries.py --trace t.jsonl && simray timeline t.jsonl -o t.json
"""
# simray-replay: seed=0

import os
import time

import ray
from ray.cluster_utils import Cluster
from ray.exceptions import NodeDiedError

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4})
doomed = cluster.add_node(num_cpus=4, resources={"spot": 1})
cluster.add_node(num_cpus=4)
ray.init(address=cluster.address)
start = time.time()


@ray.remote(max_retries=2)
def chunk(i):
    time.sleep(600)
    return i


@ray.remote(resources={"spot": 0.1}, max_retries=0)
def pinned():
    time.sleep(600)
    return "done"


@ray.remote(num_cpus=0)
class Attempts:
    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return self.n


@ray.remote(max_retries=1)
def flaky(attempts):
    if ray.get(attempts.next.remote()) == 1:
        os._exit(1)  # the worker process dies on the first attempt
    return "recovered"


attempts = Attempts.remote()
refs = [chunk.remote(i) for i in range(8)]
lone = pinned.remote()
crashy = flaky.remote(attempts)
time.sleep(300)
cluster.remove_node(doomed)
print(f"node removed at minute {(time.time() - start) / 60:.0f}")
print("chunks:", ray.get(refs))
try:
    ray.get(lone)
except NodeDiedError:
    print("pinned task: NodeDiedError (max_retries=0)")
print("flaky task:", ray.get(crashy), "after", ray.get(attempts.next.remote()) - 1, "attempts")
print(f"all done at minute {(time.time() - start) / 60:.0f}")
ray.shutdown()
cluster.shutdown()
