"""A label_selector that no node matches: the task or actor pends (Ray 2.60 neither fails it nor,
with its default autoscaler, prints a notice: that autoscaler judges a demand by its resources
alone, and real Ray prints its notices on stdout, so one would show here); likewise a demand
that fits another node but none of the matching ones. Cancelling and killing end them; a
satisfiable selector still runs."""

import ray
from ray.cluster_utils import Cluster

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4})
cluster.add_node(num_cpus=1, labels={"zone": "a"})
ray.init(address=cluster.address)


@ray.remote(num_cpus=1)
def where():
    return ray.get_runtime_context().get_node_labels().get("zone", "head")


@ray.remote(num_cpus=0)
class Probe:
    def zone(self):
        return ray.get_runtime_context().get_node_labels().get("zone", "head")


no_zone = where.options(label_selector={"zone": "b"}).remote()
no_gpu = where.options(label_selector={"zone": "a", "gpu": "in(h100,a100)"}).remote()
too_big = where.options(label_selector={"zone": "a"}, num_cpus=2).remote()  # the head has 4
actor = Probe.options(label_selector={"zone": "in(b,c)"}).remote()
call = actor.zone.remote()
pending = [no_zone, no_gpu, too_big, call]
ready, not_ready = ray.wait(pending, num_returns=len(pending), timeout=10)
print("after 10 s: ready", len(ready), "pending", len(not_ready))
print(
    "satisfiable:",
    ray.get(where.options(label_selector={"zone": "a"}).remote()),
    ray.get(where.options(label_selector={"zone": "!a"}).remote()),
)
for name, ref in [("no_zone", no_zone), ("no_gpu", no_gpu), ("too_big", too_big)]:
    ray.cancel(ref)
    try:
        ray.get(ref, timeout=30)
    except ray.exceptions.TaskCancelledError as e:
        print(name, "cancelled:", type(e).__name__)
ray.kill(actor)
try:
    ray.get(call, timeout=30)
except ray.exceptions.RayActorError as e:
    print("actor killed:", type(e).__name__)
ray.shutdown()
cluster.shutdown()
