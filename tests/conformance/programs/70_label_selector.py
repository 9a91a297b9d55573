"""Node labels and label_selector: Cluster.add_node(labels=...), Ray's default ray.io/node-id
label, selectors with `!`, `in()` and `!in()` on tasks and actors, a selector no node matches
(pending), and Ray's errors for bad selectors. Each feasible selector matches one node."""

import ray
from ray.cluster_utils import Cluster

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
cluster.add_node(num_cpus=1, labels={"zone": "a", "gpu": "h100"})
cluster.add_node(num_cpus=1, labels={"zone": "b"})
cluster.add_node(num_cpus=1, labels={"zone": "c", "gpu": "a100"})
ray.init(address=cluster.address)

ids = {}
for node in sorted(ray.nodes(), key=lambda n: n["Labels"].get("zone", "")):
    labels = node["Labels"]
    ids[labels.get("zone", "head")] = node["NodeID"]
    shown = {k: ("<node id>" if k == "ray.io/node-id" else v) for k, v in labels.items()}
    print("node", labels.get("zone", "head"), sorted(shown.items()))
print("node-id label is the node id:", all(
    n["Labels"]["ray.io/node-id"] == n["NodeID"] for n in ray.nodes()))


@ray.remote(num_cpus=0)
def where():
    return ray.get_runtime_context().get_node_labels().get("zone", "head")


@ray.remote(num_cpus=0, label_selector={"gpu": "a100"})
def on_a100():
    return where.remote()


@ray.remote(num_cpus=0)
class Probe:
    def zone(self):
        return ray.get_runtime_context().get_node_labels().get("zone", "head")


selectors = [
    {"zone": "a"},
    {"gpu": "h100"},
    {"zone": "!in(a,b,c)"},
    {"gpu": "!h100", "zone": "in(a,b)"},
    {"zone": "in(b,c)", "gpu": "in(a100)"},
    {"zone": "in(c, b)"},  # Ray keeps the space: " b" matches no node
    {"zone": "!a", "gpu": "!a100", "ray.io/node-id": "!" + ids["head"]},
]
for selector in selectors:
    zones = ray.get([where.options(label_selector=selector).remote() for _ in range(4)])
    shown = {k: ("!<head id>" if k == "ray.io/node-id" else v) for k, v in selector.items()}
    print("task", shown, "->", sorted(set(zones)))
for selector in [{"zone": "b"}, {"gpu": "!in(h100,a100)", "zone": "!b"}]:
    actor = Probe.options(label_selector=selector).remote()
    print("actor", selector, "->", ray.get(actor.zone.remote()))
print("decorated ->", ray.get(on_a100.remote()) is not None, ray.get(ray.get(on_a100.remote())))
print("by node id ->", ray.get(where.options(label_selector={"ray.io/node-id": ids["b"]}).remote()))

for selector in [{"zone": "in(x,y)"}, {"zone": "in(b, c)", "gpu": "a100"}, {"zone": "(b,c)"},
                 {"zone": ""}]:
    ready, not_ready = ray.wait([where.options(label_selector=selector).remote()], timeout=3)
    print("no node matches", selector, ": ready", len(ready), "pending", len(not_ready))
stuck = Probe.options(label_selector={"gpu": "tpu"}).remote()
ready, not_ready = ray.wait([stuck.zone.remote()], timeout=3)
print("actor no node matches: ready", len(ready), "pending", len(not_ready))

for bad in [{"zone": "-a"}, {"-z": "a"}, {"zone": "in()"}, {"a/b/c": "x"}, {"zone": "!!a"},
            {"zone": 1}, "zone=a"]:
    try:
        where.options(label_selector=bad).remote()
        print("accepted", bad)
    except (TypeError, ValueError) as e:
        print(type(e).__name__, e)
try:
    Probe.options(label_selector={"zone": "a b"}).remote()
except ValueError as e:
    print("actor", type(e).__name__, e)
ray.shutdown()
cluster.shutdown()
