"""asyncio primitives inside an async actor: an Event set by another call, Lock, Semaphore, Queue,
asyncio.wait_for timing out, asyncio.gather, and awaiting an ObjectRef of a task."""
import asyncio
import sys
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def slow_square(x):
    time.sleep(0.5)
    return x * x


@ray.remote
class Prims:
    def __init__(self):
        self.event = asyncio.Event()
        self.lock = asyncio.Lock()
        self.sem = asyncio.Semaphore(2)
        self.queue = asyncio.Queue()
        self.in_lock = 0
        self.max_in_lock = 0
        self.in_sem = 0
        self.max_in_sem = 0
        self.log = []

    async def ready(self):
        return True

    async def wait_event(self, i):
        await self.event.wait()
        return "released %d" % i

    async def set_event(self):
        self.event.set()
        return "set"

    async def locked_section(self, i):
        async with self.lock:
            self.in_lock += 1
            self.max_in_lock = max(self.max_in_lock, self.in_lock)
            await asyncio.sleep(0.2)
            self.in_lock -= 1
        return i

    async def sem_section(self, i):
        async with self.sem:
            self.in_sem += 1
            self.max_in_sem = max(self.max_in_sem, self.in_sem)
            await asyncio.sleep(0.2)
            self.in_sem -= 1
        return i

    async def peaks(self):
        return self.max_in_lock, self.max_in_sem

    async def produce(self, items):
        for x in items:
            await self.queue.put(x)
        return len(items)

    async def consume(self, n):
        out = []
        for _ in range(n):
            out.append(await self.queue.get())
        return out

    async def wait_for_timeout(self):
        try:
            await asyncio.wait_for(asyncio.sleep(10), timeout=1)
            return "no timeout"
        except Exception as e:  # asyncio.TimeoutError is TimeoutError on Python >= 3.11
            return type(e).__name__

    async def wait_for_ok(self):
        return await asyncio.wait_for(asyncio.sleep(0.1, result="done in time"), timeout=5)

    async def gather(self):
        async def one(i):
            await asyncio.sleep(0.1 * (5 - i))
            return i * 10
        return await asyncio.gather(*[one(i) for i in range(5)])

    async def await_ref(self, x):
        return await slow_square.remote(x)

    async def await_many(self, xs):
        return await asyncio.gather(*[slow_square.remote(x) for x in xs])


p = Prims.remote()
ray.get(p.ready.remote())

waiters = [p.wait_event.remote(i) for i in range(3)]
ready, _ = ray.wait(waiters, num_returns=3, timeout=1)
print("event waiters ready before set", len(ready))
print("set", ray.get(p.set_event.remote()))
print("event waiters", ray.get(waiters, timeout=30))

print("lock", ray.get([p.locked_section.remote(i) for i in range(4)]))
print("sem", ray.get([p.sem_section.remote(i) for i in range(6)]))
print("peaks (lock, sem)", ray.get(p.peaks.remote()))

consumer = p.consume.remote(5)
print("produce", ray.get(p.produce.remote(["a", "b", "c", "d", "e"])))
print("consume", ray.get(consumer, timeout=30))

start = time.time()
print("wait_for", ray.get(p.wait_for_timeout.remote()))
elapsed = time.time() - start
print("wait_for elapsed", round(elapsed))
print("raw wait_for elapsed", elapsed, file=sys.stderr)
print("wait_for ok", ray.get(p.wait_for_ok.remote()))
print("gather", ray.get(p.gather.remote()))
print("await ref", ray.get(p.await_ref.remote(7)))
print("await many", ray.get(p.await_many.remote([1, 2, 3])))

ray.shutdown()
