"""get_runtime_context().get_assigned_resources() inside tasks reflects the task's request
(num_cpus=2, num_gpus=0.5, custom resources, memory); the driver cannot query its assignment."""
import ray

ray.init(num_cpus=4, num_gpus=1, resources={"widget": 2}, include_dashboard=False)


@ray.remote
def assigned():
    ctx = ray.get_runtime_context()
    return sorted(ctx.get_assigned_resources().items()), ctx.get_accelerator_ids()["GPU"]


print("default", ray.get(assigned.remote()))
print("num_cpus=2", ray.get(assigned.options(num_cpus=2).remote()))
print("num_gpus=0.5", ray.get(assigned.options(num_gpus=0.5).remote()))
print("num_gpus=1", ray.get(assigned.options(num_gpus=1).remote()))
print("num_cpus=0", ray.get(assigned.options(num_cpus=0).remote()))
print("num_cpus=0.5", ray.get(assigned.options(num_cpus=0.5).remote()))
print("widget", ray.get(assigned.options(resources={"widget": 1.5}).remote()))
print("memory", ray.get(assigned.options(memory=100 * 1024 * 1024).remote()))
print("mixed", ray.get(assigned.options(num_cpus=3, num_gpus=1, resources={"widget": 2}).remote()))

ctx = ray.get_runtime_context()
# On the driver, get_assigned_resources() is not available (real Ray asserts worker mode).
try:
    print("driver assigned", sorted(ctx.get_assigned_resources().items()))
except Exception as e:
    print("driver assigned", type(e).__name__)
try:
    print("driver accelerator ids", ctx.get_accelerator_ids()["GPU"])
except Exception as e:
    print("driver accelerator ids", type(e).__name__)

ray.shutdown()
