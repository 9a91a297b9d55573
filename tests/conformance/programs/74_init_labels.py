"""ray.init(labels=...): Ray 2.60 checks no key or value syntax there (a `ray.io/` key, a key
with a space and an empty value are kept as given); the labels show in the runtime context and
ray.nodes(), and label_selector schedules on them; a non-mapping fails with Ray's error."""

import os

os.environ["RAY_SCHEDULER_EVENTS"] = "0"  # no autoscaler notice about the unmatched selector

import ray  # noqa: E402

labels = {"ray.io/custom": "1", "bad key!": "v", "zone": "us-east", "empty": ""}
ray.init(num_cpus=1, labels=labels, include_dashboard=False)


def custom(found):
    return sorted((k, v) for k, v in found.items() if k != "ray.io/node-id")


print("context:", custom(ray.get_runtime_context().get_node_labels()))
print("nodes:", custom(ray.nodes()[0]["Labels"]))


@ray.remote(label_selector={"zone": "us-east"})
def here():
    return custom(ray.get_runtime_context().get_node_labels()) == custom(labels)


@ray.remote(label_selector={"zone": "!eu-west", "ray.io/custom": "in(1,2)"})
def negated():
    return "ran"


print("selector:", ray.get(here.remote(), timeout=60))
print("negated and in():", ray.get(negated.remote(), timeout=60))
ref = ray.remote(label_selector={"zone": "eu-west"})(lambda: 1).remote()
ready, _ = ray.wait([ref], timeout=3)
print("unmatched selector ready:", len(ready))
ray.cancel(ref)
ray.shutdown()

try:
    ray.init(num_cpus=1, labels="zone=us", include_dashboard=False)
except Exception as e:
    print("string labels:", type(e).__name__, e)
finally:
    ray.shutdown()
