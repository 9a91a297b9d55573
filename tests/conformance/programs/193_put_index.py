"""A put's ObjectID is the putting task's TaskID plus an index that counts that task's puts, above
its returns: the driver's puts are 10^8 + 1, 2, ... through the job; each execution of a task
or actor call starts again at 10^8 + num_returns + 1 (a generator counts one return); an async
actor's puts count on through its event loop, its sync methods' too.
"""

import ray

ray.init(num_cpus=1, include_dashboard=False)


def index(ref):
    """The put index of a ref: the last 4 bytes of its id (little-endian), less 10^8."""
    return int.from_bytes(bytes.fromhex(ref.hex()[-8:]), "little") - 10**8


@ray.remote
def puts(n):
    return [index(ray.put(i)) for i in range(n)]


@ray.remote(num_returns=3)
def three(n):
    return [index(ray.put(i)) for i in range(n)], 1, 2


@ray.remote
def generator(n):
    for i in range(n):
        yield index(ray.put(i))


@ray.remote
class AsyncPutter:
    async def puts(self, n):
        return [index(ray.put(i)) for i in range(n)]

    def sync_puts(self, n):
        return [index(ray.put(i)) for i in range(n)]


@ray.remote
class Putter:
    def puts(self, n):
        return [index(ray.put(i)) for i in range(n)]


print("driver", [index(ray.put(i)) for i in range(3)])
print("task", ray.get(puts.remote(2)))
print("another task", ray.get(puts.remote(3)))
print("three returns", ray.get(three.remote(2)[0]))
putter = Putter.remote()
print("actor call", ray.get(putter.puts.remote(2)))
print("another call", ray.get(putter.puts.remote(1)))
print("generator", [ray.get(ref) for ref in generator.remote(3)])
async_putter = AsyncPutter.remote()
print("async calls", ray.get(async_putter.puts.remote(2)), ray.get(async_putter.puts.remote(1)))
print("sync call on it", ray.get(async_putter.sync_puts.remote(2)))
print("driver again", [index(ray.put(i)) for i in range(2)])
ray.shutdown()
