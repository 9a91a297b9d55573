"""Actor call ordering: calls from one caller to a default (max_concurrency=1) actor run in
submission order, even when earlier calls are slower than later ones."""
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Recorder:
    def __init__(self):
        self.items = []

    def append(self, i):
        # Earlier calls sleep longer; they must still be recorded first.
        time.sleep(0.01 * max(0, 20 - i) / 20)
        self.items.append(i)
        return len(self.items)

    def get(self):
        return list(self.items)


r = Recorder.remote()
refs = [r.append.remote(i) for i in range(20)]
# The list is requested without waiting for the appends first: it is queued behind them.
items = ray.get(r.get.remote())
print("items", items)
print("in order", items == list(range(20)))
print("append results", ray.get(refs))

# Results fetched in reverse order still reflect submission order.
more = [r.append.remote(100 + i) for i in range(5)]
print("reverse get", ray.get(list(reversed(more))))
print("tail", ray.get(r.get.remote())[-5:])

# Interleaving two actors from one caller keeps each actor's own order.
a = Recorder.remote()
b = Recorder.remote()
for i in range(10):
    (a if i % 2 == 0 else b).append.remote(i)
print("a", ray.get(a.get.remote()))
print("b", ray.get(b.get.remote()))

ray.shutdown()
