"""Actors in placement groups: an actor placed in a bundle uses the bundle's CPU, a second actor that
does not fit the bundle stays pending, and removing the group kills the actors in it."""
import os
import time

os.environ["RAY_SCHEDULER_EVENTS"] = "0"

import ray  # noqa: E402
from ray.util.placement_group import (  # noqa: E402
    placement_group,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy  # noqa: E402

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote(num_cpus=1)
class Member:
    def __init__(self, tag):
        self.tag = tag

    def hello(self):
        return "hello from %s" % self.tag


pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_PACK")
print("wait", pg.wait(timeout_seconds=10))
s = [PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=i) for i in range(2)]
a = Member.options(scheduling_strategy=s[0]).remote("a")
b = Member.options(scheduling_strategy=s[1]).remote("b")
print(ray.get([a.hello.remote(), b.hello.remote()], timeout=60))

# Bundle 0 is full: another 1-CPU actor in it stays pending, although the node has free CPUs.
c = Member.options(scheduling_strategy=s[0]).remote("c")
ready, _ = ray.wait([c.hello.remote()], timeout=2)
print("actor in full bundle ready", len(ready))
# Outside the group the 2 free CPUs are usable.
d = Member.remote("d")
print(ray.get(d.hello.remote(), timeout=60))

remove_placement_group(pg)
for label, actor in (("a", a), ("b", b)):
    try:
        ray.get(actor.hello.remote(), timeout=60)
        print(label, "alive after remove")
    except Exception as e:
        print(label, "after remove", type(e).__name__, isinstance(e, ray.exceptions.RayActorError))
print("outside actor", ray.get(d.hello.remote(), timeout=60))

ray.shutdown()
