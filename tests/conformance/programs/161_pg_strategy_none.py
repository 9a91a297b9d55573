"""PlacementGroupSchedulingStrategy(placement_group=None) means no placement group: tasks and
actors are scheduled as with the default strategy."""
import ray
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)
none = PlacementGroupSchedulingStrategy(placement_group=None)


@ray.remote
def f(x):
    return x * 2


@ray.remote
class A:
    def ping(self):
        return "pong"


print("task", ray.get(f.options(scheduling_strategy=none).remote(21)))
a = A.options(scheduling_strategy=none).remote()
print("actor", ray.get(a.ping.remote()))
print("decorated", ray.get(ray.remote(scheduling_strategy=none)(lambda: "ok").remote()))
ray.shutdown()
