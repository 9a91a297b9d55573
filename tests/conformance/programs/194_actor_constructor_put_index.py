"""An actor constructor's puts: a sync actor's count from 10^8 + 1 (its creation task has no
return to count above); an async actor's constructor puts on its event loop's count, so its
first call's puts go on after them.
"""

import ray

ray.init(num_cpus=1, include_dashboard=False)


def index(ref):
    """The put index of a ref: the last 4 bytes of its id (little-endian), less 10^8."""
    return int.from_bytes(bytes.fromhex(ref.hex()[-8:]), "little") - 10**8


@ray.remote
class Putter:
    def __init__(self, n):
        self.made = [index(ray.put(i)) for i in range(n)]

    def puts(self, n):
        return self.made, [index(ray.put(i)) for i in range(n)]


@ray.remote
class AsyncPutter:
    def __init__(self, n):
        self.made = [index(ray.put(i)) for i in range(n)]

    async def puts(self, n):
        return self.made, [index(ray.put(i)) for i in range(n)]


print("sync: constructor, call", ray.get(Putter.remote(2).puts.remote(2)))
print("sync, one put: constructor, call", ray.get(Putter.remote(1).puts.remote(1)))
print("async: constructor, call", ray.get(AsyncPutter.remote(2).puts.remote(2)))
print("async, one put: constructor, call", ray.get(AsyncPutter.remote(1).puts.remote(1)))
ray.shutdown()
