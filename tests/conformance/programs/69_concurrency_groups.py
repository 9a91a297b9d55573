"""Concurrency groups on threaded and async actors: each group runs up to its own limit at once,
the default group up to max_concurrency, @ray.method(concurrency_group=) and
.options(concurrency_group=) pick the group; calls wait on a signal actor, not on sleeps."""
import asyncio
import threading
import time

import ray

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
class Signal:
    def __init__(self):
        self.event = asyncio.Event()

    async def wait(self):
        await self.event.wait()

    def send(self):
        self.event.set()


@ray.remote(concurrency_groups={"io": 2, "compute": 3, "stats": 1})
class Threaded:
    def __init__(self, signal):
        self.signal = signal
        self.lock = threading.Lock()
        self.running = {}
        self.peak = {}

    def _work(self, tag):
        with self.lock:
            self.running[tag] = self.running.get(tag, 0) + 1
            self.peak[tag] = max(self.peak.get(tag, 0), self.running[tag])
        ray.get(self.signal.wait.remote())
        with self.lock:
            self.running[tag] -= 1
        return tag

    @ray.method(concurrency_group="io")
    def io(self):
        return self._work("io")

    @ray.method(concurrency_group="compute")
    def compute(self):
        return self._work("compute")

    def plain(self, tag):
        return self._work(tag)

    @ray.method(concurrency_group="stats")
    def stats(self):
        with self.lock:
            return dict(sorted(self.running.items())), dict(sorted(self.peak.items()))


@ray.remote(concurrency_groups={"io": 2, "stats": 1})
class Async:
    def __init__(self, signal):
        self.signal = signal
        self.running = {}
        self.peak = {}

    async def _work(self, tag):
        self.running[tag] = self.running.get(tag, 0) + 1
        self.peak[tag] = max(self.peak.get(tag, 0), self.running[tag])
        await self.signal.wait.remote()
        self.running[tag] -= 1
        return tag

    @ray.method(concurrency_group="io")
    async def io(self):
        return await self._work("io")

    async def plain(self, tag):
        return await self._work(tag)

    @ray.method(concurrency_group="stats")
    async def stats(self):
        return dict(sorted(self.running.items())), dict(sorted(self.peak.items()))


def settle(actor, want):
    """Poll the stats group until the running counts are `want` (seconds of margin)."""
    deadline = time.monotonic() + 60
    while True:
        running, _ = ray.get(actor.stats.remote())
        if running == want or time.monotonic() > deadline:
            return running
        time.sleep(0.2)


def run(label, actor, signal, calls, want):
    refs = [submit() for submit in calls]
    print(f"{label} running while blocked:", settle(actor, want))
    time.sleep(1)  # nothing else starts while the signal holds
    print(f"{label} still running:", ray.get(actor.stats.remote())[0])
    ray.get(signal.send.remote())
    done = ray.get(refs)
    print(f"{label} results:", sorted(done))
    running, peak = ray.get(actor.stats.remote())
    print(f"{label} after:", running, "peak:", peak)


sig = Signal.remote()
t = Threaded.remote(sig)
calls = (
    [t.io.remote for _ in range(4)]
    + [t.compute.remote for _ in range(5)]
    + [lambda: t.plain.remote("default") for _ in range(3)]
    # a plain method sent to the compute group: one of its 6 calls, which run 3 at a time
    + [lambda: t.plain.options(concurrency_group="compute").remote("compute")]
)
run("threaded", t, sig, calls, {"compute": 3, "default": 1, "io": 2})

sig = Signal.remote()
t2 = Threaded.options(max_concurrency=2).remote(sig)
calls = [lambda: t2.plain.remote("default") for _ in range(4)]
calls += [lambda: t2.plain.options(concurrency_group="io").remote("plain->io") for _ in range(3)]
run("threaded max_concurrency=2", t2, sig, calls, {"default": 2, "plain->io": 2})

sig = Signal.remote()
a = Async.options(max_concurrency=3).remote(sig)
calls = [a.io.remote for _ in range(5)] + [lambda: a.plain.remote("default") for _ in range(5)]
run("async", a, sig, calls, {"default": 3, "io": 2})

try:
    Threaded.options(concurrency_groups={"x": 1})
except ValueError as e:
    print("options:", type(e).__name__, e)
try:
    ray.remote(concurrency_groups={"io": 1})(lambda: 1)
except ValueError as e:
    print("remote function:", type(e).__name__, str(e).split(".")[0])
ray.shutdown()
