"""A non-detached actor whose handle was lent (a task's or actor's argument, nested or not)
ends once the driver's handle is gone and every borrower let its copy go too (Ray 2.60): a task
when it finishes, an actor when it drops the copy it kept. The actor needs the only CPU:
whatever pends shows here."""

import asyncio

import ray

ray.init(num_cpus=1)


@ray.remote(num_cpus=1)
class Counter:
    def __init__(self, start):
        self.n = start

    def incr(self):
        self.n += 1
        return self.n


@ray.remote(num_cpus=1)
def needs_cpu(case):
    return f"{case}: the CPU is free"


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self):
        self.event = asyncio.Event()

    async def send(self):
        self.event.set()

    async def wait(self):
        await self.event.wait()


@ray.remote(num_cpus=0)
def use_later(counter, signal):
    ray.get(signal.wait.remote())
    return ray.get(counter.incr.remote())


@ray.remote(num_cpus=0)
def use_nested(box):
    return ray.get(box["counters"][0].incr.remote())


@ray.remote(num_cpus=0)
class Holder:
    def __init__(self, counter=None, keep=True):
        self.counter = counter if keep else None

    def keep(self, counter):
        self.counter = counter

    def use(self):
        return ray.get(self.counter.incr.remote())

    def drop(self):
        self.counter = None
        return "dropped"

    def ping(self):
        return "pong"


# A task's argument: the task uses it after the driver's handle is gone; when it is done, the
# actor ends.
signal = Signal.remote()
c = Counter.remote(0)
later = use_later.remote(c, signal)
del c
ray.get(signal.send.remote())
print("task:", ray.get(later))
print(ray.get(needs_cpu.remote("task argument")))

# Nested in an argument's value.
c = Counter.remote(10)
ref = use_nested.remote({"counters": [c]})
del c
print("nested:", ray.get(ref))
print(ray.get(needs_cpu.remote("nested argument")))

# Kept by an actor (a method's argument) until it drops it; the holder lives on.
holder = Holder.remote()
c = Counter.remote(20)
ray.get(holder.keep.remote(c))
del c
print("holder:", ray.get(holder.use.remote()), ray.get(holder.use.remote()))
print(ray.get(holder.drop.remote()))
print(ray.get(needs_cpu.remote("dropped by its holder")))
print(ray.get(holder.ping.remote()))

ray.shutdown()
