"""cluster_resources() stays constant while available_resources() drops while tasks hold resources
and recovers after they finish; fully used resources disappear from available_resources()."""
import time

import ray

ray.init(num_cpus=4, num_gpus=2, resources={"widget": 3}, include_dashboard=False)


def mine(res):
    return sorted((k, v) for k, v in res.items() if k in ("CPU", "GPU", "widget"))


@ray.remote
def hold(seconds):
    time.sleep(seconds)
    return "done"


def wait_until(pred, limit=20):
    deadline = time.time() + limit
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


print("cluster before", mine(ray.cluster_resources()))
print("available before", mine(ray.available_resources()))

refs = [
    hold.options(num_cpus=1, num_gpus=1, resources={"widget": 2}).remote(4),
    hold.options(num_cpus=2).remote(4),
]
time.sleep(1.5)
print("cluster during", mine(ray.cluster_resources()))
print("available during", mine(ray.available_resources()))

print("results", ray.get(refs))
# Resources are returned asynchronously after completion; poll until they are back.
print("recovered", wait_until(lambda: mine(ray.available_resources()) == mine(ray.cluster_resources())))
print("available after", mine(ray.available_resources()))
print("cluster after", mine(ray.cluster_resources()))

# Using every CPU makes the key vanish from available_resources().
refs = [hold.options(num_cpus=4).remote(3)]
time.sleep(1.5)
print("all cpus busy", mine(ray.available_resources()))
ray.get(refs)
print("recovered again", wait_until(lambda: mine(ray.available_resources()) == mine(ray.cluster_resources())))

ray.shutdown()
