"""A node dies under running tasks: no retries left gives NodeDiedError; a retryable task runs
again on a surviving node (ray.cluster_utils.Cluster, remove_node while the tasks run)."""

import os
import tempfile
import time

os.environ.setdefault("RAY_SCHEDULER_EVENTS", "0")
# Ray prints "(raylet) Task ... will be retried" on the driver's stdout otherwise.
os.environ.setdefault("RAY_enable_output_error_log_if_still_retry", "0")

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # noqa: E402

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
worker = cluster.add_node(num_cpus=2, resources={"worker": 2})
ray.init(address=cluster.address)
marks = tempfile.mkdtemp()


@ray.remote
def long(name):
    open(os.path.join(marks, f"{name}-{len(os.listdir(marks))}"), "w").close()
    time.sleep(30)
    return name


def wait_started(count):
    for _ in range(600):
        if len(os.listdir(marks)) >= count:
            return True
        time.sleep(0.1)
    return False


pinned = long.options(resources={"worker": 1}, max_retries=0).remote("pinned")
movable = long.options(
    max_retries=1,
    scheduling_strategy=NodeAffinitySchedulingStrategy(worker.node_id, soft=True),
).remote("movable")
print("both started", wait_started(2))
cluster.remove_node(worker)
try:
    ray.get(pinned, timeout=120)
except Exception as e:
    print("pinned", type(e).__name__, isinstance(e, ray.exceptions.RayError), "dead" in str(e))
print("movable", ray.get(movable, timeout=120))
print("movable attempts", sorted(n.split("-")[0] for n in os.listdir(marks)).count("movable"))
ray.shutdown()
cluster.shutdown()
