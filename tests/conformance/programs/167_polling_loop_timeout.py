"""A sync actor polls another actor in an endless loop of remote calls; the driver's get of a
call queued behind the loop times out after 2 s, and the polled actor has served many calls:
remote calls cost time, so the loop advances the clock."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Counter:
    def __init__(self):
        self.k = 0

    def n(self):
        self.k += 1
        return self.k


@ray.remote
class Poller:
    def __init__(self, other):
        self.other = other

    def run(self):
        while True:
            ray.get(self.other.n.remote())

    def ping(self):
        return "pong"


counter = Counter.remote()
poller = Poller.remote(counter)
poller.run.remote()
try:
    print(ray.get(poller.ping.remote(), timeout=2))
except ray.exceptions.GetTimeoutError as e:
    print("GetTimeoutError", isinstance(e, TimeoutError))
print("the loop made progress", ray.get(counter.n.remote()) > 10)
ray.kill(poller)
ray.shutdown()
