"""Actor resource rules: default actors need 1 CPU to be placed but hold 0 CPU while alive, so 4 of
them fit on 2 CPUs; a num_cpus=1 actor holds its CPU for its lifetime; a third one stays pending."""
import os

# Keep scheduler notices off stdout (must be set before import).
os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import time  # noqa: E402

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=1, resources={"widget": 2}, include_dashboard=False)


@ray.remote
class A:
    def ping(self):
        return "pong"


def avail():
    res = ray.available_resources()
    return sorted((k, v) for k, v in res.items() if k in ("CPU", "GPU", "widget"))


def wait_avail(expected, limit=20.0):
    # Resource reports can lag slightly behind actor creation/death: poll with a bound.
    deadline = time.time() + limit
    while time.time() < deadline:
        if avail() == expected:
            return True
        time.sleep(0.1)
    return False


print("start", avail())
defaults = [A.remote() for _ in range(4)]
print("4 default actors", ray.get([d.ping.remote() for d in defaults], timeout=60))
print("CPU with 4 default actors", ray.available_resources().get("CPU"))
print("stable", wait_avail([("CPU", 2.0), ("GPU", 1.0), ("widget", 2.0)]))

one = A.options(num_cpus=1).remote()
print("num_cpus=1 actor", ray.get(one.ping.remote(), timeout=60))
print("CPU with one num_cpus=1 actor", wait_avail([("CPU", 1.0), ("GPU", 1.0), ("widget", 2.0)]),
      ray.available_resources().get("CPU"))

two = A.options(num_cpus=1).remote()
print("second num_cpus=1 actor", ray.get(two.ping.remote(), timeout=60))
print("no CPU left", wait_avail([("GPU", 1.0), ("widget", 2.0)]), "CPU" in ray.available_resources())

three = A.options(num_cpus=1).remote()
ready, not_ready = ray.wait([three.ping.remote()], timeout=2)
print("third num_cpus=1 actor ready", len(ready), "pending", len(not_ready))

# A default actor needs 1 free CPU to be placed, so it is pending too; kill it while pending.
extra = A.remote()
ready, not_ready = ray.wait([extra.ping.remote()], timeout=2)
print("default actor with no free CPU ready", len(ready), "pending", len(not_ready))
ray.kill(extra)

# Killing a num_cpus=1 actor frees its CPU and the pending actor is placed.
ray.kill(one)
print("pending actor after kill", ray.get(three.ping.remote(), timeout=60))

# GPU and custom resources are held for the actor's lifetime as well.
g = A.options(num_gpus=1, num_cpus=0).remote()
w = A.options(resources={"widget": 1.5}, num_cpus=0).remote()
print("gpu/widget actors", ray.get([g.ping.remote(), w.ping.remote()], timeout=60))
print("held", wait_avail([("widget", 0.5)]), avail())
ray.kill(g)
ray.kill(w)
print("released", wait_avail([("GPU", 1.0), ("widget", 2.0)]), avail())

ray.shutdown()
