"""Named actors: ray.get_actor finds them (state shared), get_if_exists=True returns the existing
actor, a missing name raises ValueError, a duplicate name fails, lifetime="detached" is accepted."""
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.value = start

    def incr(self):
        self.value += 1
        return self.value


c = Counter.options(name="counter").remote()
print("incr", ray.get(c.incr.remote()))
found = ray.get_actor("counter")
print("get_actor type", type(found).__name__)
print("via get_actor", ray.get(found.incr.remote()))
print("via original", ray.get(c.incr.remote()))

same = Counter.options(name="counter", get_if_exists=True).remote(start=1000)
print("get_if_exists shares state", ray.get(same.incr.remote()))

fresh = Counter.options(name="fresh", get_if_exists=True).remote(start=50)
print("get_if_exists creates", ray.get(fresh.incr.remote()))
again = Counter.options(name="fresh", get_if_exists=True).remote(start=0)
print("get_if_exists again", ray.get(again.incr.remote()))

try:
    ray.get_actor("no-such-actor")
    print("missing found")
except Exception as e:
    print("missing", type(e).__name__, isinstance(e, ValueError))

try:
    dup = Counter.options(name="counter").remote()
    print("duplicate accepted", ray.get(dup.incr.remote()))
except Exception as e:
    print("duplicate", type(e).__name__, isinstance(e, ValueError))

# Names are scoped per namespace: the same name can be used in another namespace.
other = Counter.options(name="counter", namespace="other").remote(start=500)
print("other namespace", ray.get(other.incr.remote()))
print("get_actor other ns", ray.get(ray.get_actor("counter", namespace="other").incr.remote()))
print("get_actor default ns still", ray.get(ray.get_actor("counter").incr.remote()))
try:
    ray.get_actor("fresh", namespace="other")
    print("fresh found in other")
except Exception as e:
    print("fresh in other ns", type(e).__name__)

# Handles from get_actor work inside tasks too.
@ray.remote
def bump_by_name(name):
    return ray.get(ray.get_actor(name).incr.remote())


print("task by name", ray.get(bump_by_name.remote("counter")))

# An explicit namespace: in the job's anonymous namespace real Ray prints a notice (with the
# namespace's random name) about detached actors on stdout.
d = Counter.options(name="detached-one", lifetime="detached", namespace="keep").remote(start=7)
print("detached", ray.get(d.incr.remote()))
print("detached by name", ray.get(ray.get_actor("detached-one", namespace="keep").incr.remote()))
ray.kill(d)

# After ray.kill the name is released (eventually) and can be reused.
ray.kill(c)
reused = None
for _ in range(100):
    try:
        reused = Counter.options(name="counter").remote(start=10)
        break
    except ValueError:
        time.sleep(0.1)
print("name reused", reused is not None and ray.get(reused.incr.remote()))

ray.shutdown()
