"""ray.is_initialized() is False before init, True after init, and False again after shutdown;
shutdown is idempotent and Ray can be initialised again."""
import ray

print("before init", ray.is_initialized())
ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)
print("after init", ray.is_initialized())


@ray.remote
def f():
    return ray.is_initialized()


print("inside task", ray.get(f.remote()))
ray.shutdown()
print("after shutdown", ray.is_initialized())
ray.shutdown()
print("after second shutdown", ray.is_initialized())

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)
print("re-init", ray.is_initialized(), ray.cluster_resources().get("CPU"))
print("task after re-init", ray.get(f.remote()))
ray.shutdown()
print("final", ray.is_initialized())
