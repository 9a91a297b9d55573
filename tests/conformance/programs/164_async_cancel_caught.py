"""Cancelling a running async actor call whose coroutine catches CancelledError and returns:
ray.get still raises TaskCancelledError; the actor serves the next call."""
import asyncio

import ray
from ray._common.test_utils import SignalActor

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Asy:
    def __init__(self):
        self.caught = 0

    async def slow(self, started):
        try:
            # No await between the signal and the sleep: once the driver sees the signal, the
            # coroutine is inside this try, suspended in the sleep.
            started.send.remote()
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.caught += 1
            return "caught"
        return "finished"

    async def count(self):
        return self.caught


started = SignalActor.remote()
a = Asy.remote()
ref = a.slow.remote(started)
ray.get(started.wait.remote())
ray.cancel(ref)
try:
    print("got", ray.get(ref, timeout=30))
except ray.exceptions.TaskCancelledError as e:
    print(type(e).__name__, isinstance(e, ray.exceptions.RayTaskError))
print("coroutine caught it", ray.get(a.count.remote()))
ray.shutdown()
