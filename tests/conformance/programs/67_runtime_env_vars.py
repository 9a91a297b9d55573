"""runtime_env={"env_vars": ...} on init, tasks and actors: the variables are set inside those
tasks only (the driver's environment is untouched), task options override the job's, actors
keep theirs for every call; env_vars that are not Dict[str, str] fail with Ray's TypeError."""
import os

import ray

os.environ.pop("SIMRAY_DEMO_A", None)
os.environ.pop("SIMRAY_DEMO_B", None)
ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"SIMRAY_DEMO_A": "job"}})


@ray.remote
def read():
    return os.environ.get("SIMRAY_DEMO_A"), os.environ.get("SIMRAY_DEMO_B")


@ray.remote
def outer():
    return ray.get(read.remote())


print("job level:", ray.get(read.remote()))
print("task override:", ray.get(read.options(runtime_env={"env_vars": {"SIMRAY_DEMO_A": "task", "SIMRAY_DEMO_B": "b"}}).remote()))
print("child of an overriding task:", ray.get(outer.options(runtime_env={"env_vars": {"SIMRAY_DEMO_B": "parent"}}).remote()))
print("driver untouched:", os.environ.get("SIMRAY_DEMO_A"), os.environ.get("SIMRAY_DEMO_B"))


@ray.remote(runtime_env={"env_vars": {"SIMRAY_DEMO_B": "actor"}})
class Reader:
    def read(self):
        return os.environ.get("SIMRAY_DEMO_A"), os.environ.get("SIMRAY_DEMO_B")


r = Reader.remote()
print("actor:", ray.get(r.read.remote()), ray.get(r.read.remote()))
print("context runtime_env has env_vars:", ray.get(ray.remote(lambda: "env_vars" in ray.get_runtime_context().runtime_env).remote()))

for bad in ({"env_vars": {"X": 1}}, {"env_vars": {1: "x"}}, {"env_vars": ["X"]}):
    try:
        ray.get(read.options(runtime_env=bad).remote())
        print(bad, "accepted")
    except TypeError as e:
        print("TypeError:", e)
ray.shutdown()
