"""Which handles keep an actor alive (Ray 2.60): a detached actor outlives its handles, an
actor's own `current_actor` handle does not keep it, and one dropped while its constructor
runs is ended there (it never started). One CPU: whatever pends shows here."""

import asyncio

import ray

ray.init(num_cpus=1, namespace="scopes")


@ray.remote(num_cpus=1)
class Worker:
    def __init__(self):
        self.me = ray.get_runtime_context().current_actor  # its own handle

    def work(self, x):
        return x * 2


@ray.remote(num_cpus=1)
def needs_cpu():
    return "the CPU is free"


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self):
        self.event = asyncio.Event()

    async def send(self):
        self.event.set()

    async def wait(self):
        await self.event.wait()


@ray.remote(num_cpus=1)
class Slow:
    def __init__(self, started, gate):
        ray.get(started.send.remote())
        ray.get(gate.wait.remote())  # never sent

    def work(self, x):
        return x


# Detached: it outlives the driver's handle (until ray.kill).
d = Worker.options(name="kept", lifetime="detached").remote()
print(ray.get(d.work.remote(1)))
del d
print(ray.get(ray.get_actor("kept").work.remote(2)))
ray.kill(ray.get_actor("kept"))
print(ray.get(needs_cpu.remote()))

# Its own handle (held by the instance) does not keep it.
s = Worker.remote()
print(ray.get(s.work.remote(3)))
del s
print(ray.get(needs_cpu.remote()))

# Dropped while its constructor runs: it ends there, never started.
started, gate = Signal.remote(), Signal.remote()
slow = Slow.options(name="slow").remote(started, gate)
weak = ray.get_actor("slow")
ray.get(started.wait.remote())
del slow
print(ray.get(needs_cpu.remote()))
try:
    ray.get(weak.work.remote(0))
except ray.exceptions.ActorDiedError as e:
    # Ray names the cause from whichever of its two notices of the end comes first (the second
    # adds " including lineage ref count").
    text = str(e).replace(" including lineage ref count", "")
    print(type(e).__name__, *[ln for ln in text.splitlines() if not ln.startswith("\t")])
ray.shutdown()
