"""GPU circular wait where the parent catches the GetTimeoutError itself and returns a string;
after the parent finishes and frees the GPU, the orphaned child runs."""
import sys
import time

import ray

ray.init(num_cpus=2, num_gpus=1, include_dashboard=False)


@ray.remote(num_gpus=1)
def child():
    return "child done"


@ray.remote(num_gpus=1)
def parent():
    ref = child.remote()
    start = time.time()
    try:
        ray.get(ref, timeout=2)
        return "got child", None, time.time() - start
    except ray.exceptions.GetTimeoutError as e:
        return "caught " + type(e).__name__ + " " + str(isinstance(e, TimeoutError)), ref, time.time() - start


msg, child_ref, elapsed = ray.get(parent.remote())
print("parent", msg)
# Measured inside the parent around its ray.get (GPU tasks start in fresh worker processes).
print("parent waited", round(elapsed))
print("raw elapsed", elapsed, file=sys.stderr)
# The parent released the GPU, so the child can now run.
print("child", ray.get(child_ref, timeout=30))

ray.shutdown()
