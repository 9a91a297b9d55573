"""Copies of an actor's handle keep it alive after the driver dropped its own (Ray 2.60): one
passed to a pending task, one kept by another actor, one inside a `ray.put` value, one returned
by the task that created the actor."""

import asyncio

import ray

ray.init(num_cpus=4)


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self):
        self.event = asyncio.Event()

    async def send(self):
        self.event.set()

    async def wait(self):
        await self.event.wait()


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.n = start

    def incr(self):
        self.n += 1
        return self.n


@ray.remote(num_cpus=0)
def use_later(counter, signal):
    ray.get(signal.wait.remote())
    return ray.get(counter.incr.remote())


@ray.remote(num_cpus=0)
class Holder:
    def keep(self, handles):
        self.counter = handles[0]

    def use(self):
        return ray.get(self.counter.incr.remote())


@ray.remote(num_cpus=0)
def make(start):
    counter = Counter.remote(start)
    ray.get(counter.incr.remote())
    return [counter]


# Passed to a task that uses it only after the driver's handle is gone.
signal = Signal.remote()
c = Counter.remote()
print("driver:", ray.get(c.incr.remote()))
later = use_later.remote(c, signal)
del c
ray.get(signal.send.remote())
print("task:", ray.get(later))

# Kept by another actor.
holder = Holder.remote()
c = Counter.remote(10)
ray.get(holder.keep.remote([c]))
del c
print("holder:", ray.get(holder.use.remote()), ray.get(holder.use.remote()))

# Inside a value in the object store.
c = Counter.remote(20)
box = ray.put({"counter": c})
del c
print("box:", ray.get(ray.get(box)["counter"].incr.remote()))

# Created in a task (its owner) and returned: the driver's copy keeps it.
[made] = ray.get(make.remote(30))
print("made:", ray.get(made.incr.remote()))
ray.shutdown()
