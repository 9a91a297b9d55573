"""Async actors: 10 calls that each await asyncio.sleep(NAP) overlap and take one NAP in total;
max_concurrency=5 makes them take two; a blocking time.sleep in an async method serialises calls.

Elapsed time is printed in units of NAP = 3 s, so overhead of up to 1.5 s on a loaded machine
cannot change a line."""
import asyncio
import sys
import time

import ray

NAP = 3

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class AsyncSleeper:
    def __init__(self):
        self.running = 0
        self.max_running = 0

    async def ready(self):
        return True

    async def nap(self, i):
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        await asyncio.sleep(NAP)
        self.running -= 1
        return i

    async def blocking_nap(self, i):
        time.sleep(NAP)
        return i

    async def peak(self):
        return self.max_running


def timed(label, actor, method, n):
    ray.get(actor.ready.remote())  # the actor's worker exists before the clock starts
    start = time.time()
    out = ray.get([getattr(actor, method).remote(i) for i in range(n)])
    elapsed = time.time() - start
    print(label, "results", out, "elapsed naps", round(elapsed / NAP))
    print("raw", label, elapsed, file=sys.stderr)
    return actor


a = timed("10 async calls", AsyncSleeper.remote(), "nap", 10)
print("peak", ray.get(a.peak.remote()))
b = timed("max_concurrency=5", AsyncSleeper.options(max_concurrency=5).remote(), "nap", 10)
print("peak", ray.get(b.peak.remote()))
timed("blocking sleep in async method", AsyncSleeper.remote(), "blocking_nap", 3)

ray.shutdown()
