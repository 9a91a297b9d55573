"""The text of a task error raised because an argument's task failed: the outer task's header,
Ray's "could not be computed" line, and the inner error named ray.exceptions.RayTaskError."""
import re

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def boom():
    raise ValueError("bad")


@ray.remote
def use(x):
    return x


def show(text):
    text = re.sub(r"pid=\d+, ip=[0-9.]+", "pid=P, ip=I", text)
    text = re.sub(r"actor_id=\w+, repr=<.*?>", "actor_id=X, repr=R", text)
    text = re.sub(r'File ".*?([^/]+\.py)"', r'File "\1"', text)
    print(text)


try:
    ray.get(use.remote(boom.remote()))
except ray.exceptions.RayTaskError as e:
    print(type(e).__name__, isinstance(e, ValueError))
    show(str(e))


@ray.remote
class A:
    def use(self, x):
        return x


try:
    ray.get(A.remote().use.remote(boom.remote()))
except ray.exceptions.RayTaskError as e:
    print(type(e).__name__, isinstance(e, ValueError))
    show(str(e))
ray.shutdown()
