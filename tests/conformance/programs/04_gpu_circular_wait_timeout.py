"""GPU circular wait: a num_gpus=1 task on a 1-GPU cluster waits for a num_gpus=1 child with timeout;
the GetTimeoutError raised inside the parent surfaces on the driver as a RayTaskError."""
import ray

ray.init(num_cpus=2, num_gpus=1, include_dashboard=False)


@ray.remote(num_gpus=1)
def child():
    return "child done"


@ray.remote(num_gpus=1)
def parent():
    # The child can never be scheduled: the parent holds the only GPU
    # (a task blocked in ray.get releases CPUs, but not GPUs).
    return ray.get(child.remote(), timeout=3)


try:
    ray.get(parent.remote())
    print("no error")
except Exception as e:
    print("class", type(e).__name__)
    print("is RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
    print("is GetTimeoutError", isinstance(e, ray.exceptions.GetTimeoutError))
    print("is TimeoutError", isinstance(e, TimeoutError))
    print("is RayError", isinstance(e, ray.exceptions.RayError))
    print("cause", type(e.cause).__name__)
    print("cause is TimeoutError", isinstance(e.cause, TimeoutError))

ray.shutdown()
