"""Threaded actors: with max_concurrency=2, four 1 s calls take 2 s; with max_concurrency=4 they
take 1 s; a default actor (max_concurrency=1) runs them one after another (4 s).

Durations are multiples of UNIT = 2 s and elapsed times are printed in UNITs, so a loaded
machine's overhead of up to a second cannot change a line."""
import sys
import threading
import time

import ray

UNIT = 2  # seconds

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Sleeper:
    def __init__(self):
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0

    def ready(self):
        return True

    def nap(self, i):
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(UNIT)
        with self.lock:
            self.running -= 1
        return i

    def peak(self):
        return self.max_running


def timed(label, actor, n):
    ray.get(actor.ready.remote())  # the actor's worker exists before the clock starts
    start = time.time()
    out = ray.get([actor.nap.remote(i) for i in range(n)])
    elapsed = time.time() - start
    print(label, "results", out, "elapsed", round(elapsed / UNIT), "peak", ray.get(actor.peak.remote()))
    print("raw", label, elapsed, file=sys.stderr)


timed("max_concurrency=2", Sleeper.options(max_concurrency=2).remote(), 4)
timed("max_concurrency=4", Sleeper.options(max_concurrency=4).remote(), 4)
timed("default", Sleeper.remote(), 4)
timed("max_concurrency=3, 5 calls", Sleeper.options(max_concurrency=3).remote(), 5)

ray.shutdown()
