"""Fractional GPUs: two num_gpus=0.5 tasks running together on a 1-GPU cluster share GPU id 0,
and a third 0.5 task cannot start until one of them finishes."""
import os
import tempfile
import time

import ray

ray.init(num_cpus=4, num_gpus=1, include_dashboard=False)

workdir = tempfile.mkdtemp()
release = os.path.join(workdir, "release")


def count(prefix):
    return sum(1 for n in os.listdir(workdir) if n.startswith(prefix))


@ray.remote(num_gpus=0.5)
def half_blocking(name):
    # Announce the start, then hold the half GPU until the driver creates the release file.
    open(os.path.join(workdir, "started_" + name), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(release) and time.time() < deadline:
        time.sleep(0.05)
    ids = ray.get_gpu_ids()
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    assigned = sorted(ray.get_runtime_context().get_assigned_resources().items())
    return ids, env, assigned


@ray.remote(num_gpus=0.5)
def half_quick():
    return ray.get_gpu_ids()


holders = [half_blocking.remote("a"), half_blocking.remote("b")]
deadline = time.time() + 60
while count("started_") < 2 and time.time() < deadline:
    time.sleep(0.05)
print("both halves running at once", count("started_") == 2)

third = half_quick.remote()
ready, _ = ray.wait([third], timeout=2)
print("third half ready while two hold the GPU", len(ready))

open(release, "w").close()
for ids, env, assigned in ray.get(holders):
    print("half", ids, env, assigned)
print("third after release", ray.get(third, timeout=60))


@ray.remote(num_gpus=0.25)
def quarter():
    return ray.get_gpu_ids(), sorted(ray.get_runtime_context().get_assigned_resources().items())


print("quarter", ray.get(quarter.remote()))

ray.shutdown()
