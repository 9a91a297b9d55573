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

# ray.get_actor no longer finds a terminated named actor.
n = Worker.options(name="graceful").remote()
print("named step", ray.get(n.step.remote()))
n.__ray_terminate__.remote()
gone = False
for _ in range(100):
    try:
        ray.get_actor("graceful")
        time.sleep(0.1)
    except ValueError:
        gone = True
        break
print("named actor gone", gone)

ray.shutdown()
