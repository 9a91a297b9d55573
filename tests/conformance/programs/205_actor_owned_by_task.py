"""An actor created inside a task or an actor is owned there (Ray 2.60): it ends once its
creator lets its handle go (a task when it finishes, an actor when it forgets it), and a copy
lent on to another task keeps it until that task is done too; a borrower's copies end with its
process. The actor needs the only CPU: whatever pends shows here."""

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
def make_and_use(start):
    counter = Counter.remote(start)
    return ray.get(counter.incr.remote())


@ray.remote(num_cpus=0)
def use_later(counter, signal):
    ray.get(signal.wait.remote())
    return ray.get(counter.incr.remote())


@ray.remote(num_cpus=0)
def make_and_lend(start, signal):
    counter = Counter.remote(start)
    return use_later.remote(counter, signal)  # a ref to the borrower's result


@ray.remote(num_cpus=0)
class Maker:
    def make(self, start):
        self.counter = Counter.remote(start)
        return ray.get(self.counter.incr.remote())

    def forget(self):
        self.counter = None
        return "forgotten"

    def keep(self, counter):
        self.counter = counter
        return ray.get(counter.incr.remote())

    def ping(self):
        return "pong"


# Made and used by a task: it ends with the task.
print("task's own:", ray.get(make_and_use.remote(0)))
print(ray.get(needs_cpu.remote("made by a task")))

# Made by an actor, kept, then forgotten; the maker lives on.
maker = Maker.remote()
print("actor's own:", ray.get(maker.make.remote(10)))
print(ray.get(maker.forget.remote()))
print(ray.get(needs_cpu.remote("forgotten by its maker")))
print(ray.get(maker.ping.remote()))

# Made by a task and lent to another task, which uses it after its maker is done.
signal = Signal.remote()
inner = ray.get(make_and_lend.remote(20, signal))
ray.get(signal.send.remote())
print("lent on:", ray.get(inner))
print(ray.get(needs_cpu.remote("its borrower finished")))

# Lent to an actor that keeps it, then is killed: its copy is gone with its process.
keeper = Maker.remote()
c = Counter.remote(30)
print("kept:", ray.get(keeper.keep.remote(c)))
del c
ray.kill(keeper)
print(ray.get(needs_cpu.remote("its keeper was killed")))
ray.shutdown()
