"""A task raising ValueError surfaces on the driver as RayTaskError(ValueError): an instance of both
RayTaskError and ValueError, with the original exception in .cause."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def fail(msg):
    raise ValueError(msg)


try:
    ray.get(fail.remote("bad value 7"))
    print("no error")
except ray.exceptions.RayTaskError as e:
    print("class", type(e).__name__)
    print("is ValueError", isinstance(e, ValueError))
    print("is RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
    print("is RayError", isinstance(e, ray.exceptions.RayError))
    print("is Exception", isinstance(e, Exception))
    print("is KeyError", isinstance(e, KeyError))
    print("cause class", type(e.cause).__name__)
    print("cause str", str(e.cause))
    print("cause args", e.cause.args)
    print("cause is RayTaskError", isinstance(e.cause, ray.exceptions.RayTaskError))
    print("function name in str", "fail" in str(e))
    print("message in str", "bad value 7" in str(e))

# A plain `except ValueError` catches it too.
try:
    ray.get(fail.remote("again"))
except ValueError as e:
    print("caught as ValueError", type(e).__name__)

# The failed ref stays failed: getting it twice raises twice.
ref = fail.remote("twice")
for i in range(2):
    try:
        ray.get(ref)
    except ValueError as e:
        print("get", i, type(e).__name__, str(e.cause))

# ray.wait treats a failed task as ready.
ready, not_ready = ray.wait([fail.remote("w")], timeout=30)
print("wait on failed", len(ready), len(not_ready))

ray.shutdown()
