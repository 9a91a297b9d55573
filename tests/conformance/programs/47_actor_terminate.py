"""actor.__ray_terminate__.remote() exits the actor gracefully: calls submitted before it still run,
calls made afterwards fail with a RayActorError."""
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Worker:
    def __init__(self):
        self.n = 0

    def step(self):
        time.sleep(0.2)
        self.n += 1
        return self.n


w = Worker.remote()
before = [w.step.remote() for _ in range(3)]
w.__ray_terminate__.remote()
print("before terminate", ray.get(before, timeout=60))

# Give the exit a moment to be noticed, then later calls fail.
time.sleep(2)
for label in ("after terminate", "after terminate again"):
    try:
        print(label, ray.get(w.step.remote(), timeout=60))
    except Exception as e:
        print(label, type(e).__name__, isinstance(e, ray.exceptions.RayActorError))

# A named actor that exited through __ray_terminate__ keeps its name while handles to it exist:
# get_actor still returns a handle (calls through it fail) and the name cannot be reused. Once the
# handles are gone, the name is released.
n = Worker.options(name="graceful").remote()
print("named step", ray.get(n.step.remote()))
n.__ray_terminate__.remote()
time.sleep(2)
try:
    print("named call after terminate", ray.get(n.step.remote(), timeout=60))
except Exception as e:
    print("named call after terminate", type(e).__name__)
try:
    h = ray.get_actor("graceful")
    print("get_actor after terminate", type(h).__name__)
    ray.get(h.step.remote(), timeout=60)
except Exception as e:
    print("call via get_actor", type(e).__name__)
try:
    Worker.options(name="graceful").remote()
    print("name reuse accepted")
except Exception as e:
    print("name reuse while handles exist", type(e).__name__)
del n, h
gone = False
for _ in range(200):
    try:
        ray.get_actor("graceful")
        time.sleep(0.1)
    except ValueError:
        gone = True
        break
print("name released after handles deleted", gone)
n2 = Worker.options(name="graceful").remote()
print("new actor with the name", ray.get(n2.step.remote()))

ray.shutdown()
