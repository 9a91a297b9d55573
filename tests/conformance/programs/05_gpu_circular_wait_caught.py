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
    try:
        ray.get(ref, timeout=2)
        return "got child", None
    except ray.exceptions.GetTimeoutError as e:
        return "caught " + type(e).__name__ + " " + str(isinstance(e, TimeoutError)), ref


start = time.time()
msg, child_ref = ray.get(parent.remote())
print("parent", msg)
elapsed = time.time() - start
print("elapsed", round(elapsed))
print("raw elapsed", elapsed, file=sys.stderr)
# The parent released the GPU, so the child can now run.
print("child", ray.get(child_ref, timeout=30))

ray.shutdown()
