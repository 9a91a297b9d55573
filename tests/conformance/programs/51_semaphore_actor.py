"""ray._common.test_utils.Semaphore(value=2): acquire/locked/release; a third acquire blocks until a
release; the semaphore actor needs no CPU."""
import ray
from ray._common.test_utils import Semaphore

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)

sema = Semaphore.remote(value=2)
print("locked at start", ray.get(sema.locked.remote()))
print("acquire 1", ray.get(sema.acquire.remote()))
print("locked after 1", ray.get(sema.locked.remote()))
print("acquire 2", ray.get(sema.acquire.remote()))
print("locked after 2", ray.get(sema.locked.remote()))

third = sema.acquire.remote()
ready, _ = ray.wait([third], timeout=1)
print("third acquire ready before release", len(ready))
print("release", ray.get(sema.release.remote()))
print("third acquire", ray.get(third, timeout=60))
print("locked after third", ray.get(sema.locked.remote()))
ray.get(sema.release.remote())
ray.get(sema.release.remote())
print("locked after releases", ray.get(sema.locked.remote()))

# Semaphore actors hold no CPU: the single CPU is still free for a task.
print("CPU available", ray.available_resources().get("CPU"))


@ray.remote
def guarded(sem, i):
    ray.get(sem.acquire.remote())
    try:
        return i
    finally:
        ray.get(sem.release.remote())


one = Semaphore.remote()  # default value=1
print("default locked", ray.get(one.locked.remote()))
print("guarded", ray.get([guarded.remote(one, i) for i in range(4)], timeout=60))
print("default locked at end", ray.get(one.locked.remote()))

ray.shutdown()
