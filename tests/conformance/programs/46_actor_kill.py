"""ray.kill(actor): the in-flight call and every later call raise ActorDiedError (a RayActorError)
whose message says the actor was killed by ray.kill; killing twice is harmless."""
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Victim:
    def ping(self):
        return "pong"

    def slow(self):
        time.sleep(30)
        return "slow done"


def show(label, ref):
    try:
        print(label, "value", ray.get(ref, timeout=60))
    except Exception as e:
        print(label, type(e).__name__,
              isinstance(e, ray.exceptions.RayActorError),
              isinstance(e, ray.exceptions.ActorDiedError),
              "ray.kill" in str(e))


v = Victim.remote()
print("before kill", ray.get(v.ping.remote()))
in_flight = v.slow.remote()
time.sleep(1)
start = time.time()
ray.kill(v)
show("in-flight", in_flight)
print("in-flight failed fast", time.time() - start < 20)
show("after kill", v.ping.remote())
show("after kill again", v.ping.remote())
ray.kill(v)  # second kill: no error
print("second kill ok")

# Calls queued behind a long call are failed too.
w = Victim.remote()
ray.get(w.ping.remote())
queued = [w.slow.remote()] + [w.ping.remote() for _ in range(3)]
time.sleep(1)
ray.kill(w)
names = []
for ref in queued:
    try:
        ray.get(ref, timeout=60)
        names.append("value")
    except Exception as e:
        names.append(type(e).__name__)
print("queued calls", names)

# Killing a handle obtained by name works the same way.
n = Victim.options(name="victim").remote()
ray.get(n.ping.remote())
ray.kill(ray.get_actor("victim"))
# ray.kill is asynchronous in Ray: a call sent in the same instant may still be served.
time.sleep(2)
show("named after kill", n.ping.remote())

# A non-handle argument is rejected.
try:
    ray.kill("not an actor")
except Exception as e:
    print("kill non-actor", type(e).__name__)

ray.shutdown()
