"""Actor helpers: ray.util.ActorPool (every method), ray.util.queue.Queue (sync and async put/get,
Empty/Full, batch ops, actor_options, shutdown), ray.util.as_completed / map_unordered, and
ray.util.multiprocessing.Pool (map, imap, imap_unordered, apply_async, starmap, errors, context
manager). Unordered results are printed sorted."""
import time

import ray
from ray.util import ActorPool, as_completed, map_unordered
from ray.util.multiprocessing import Pool
from ray.util.queue import Empty, Full, Queue

ray.init(num_cpus=4, include_dashboard=False)


@ray.remote(num_cpus=0)
class Doubler:
    def double(self, x):
        time.sleep(0.01 * (5 - x % 5))
        return 2 * x


actors = [Doubler.remote() for _ in range(3)]
pool = ActorPool(actors)
print("map:", list(pool.map(lambda a, v: a.double.remote(v), range(8))))
print("map_unordered:", sorted(pool.map_unordered(lambda a, v: a.double.remote(v), range(8))))
print("has_next before submit:", pool.has_next(), "has_free:", pool.has_free())
for v in range(5):
    pool.submit(lambda a, v: a.double.remote(v), v)
print("has_free while busy:", pool.has_free(), "has_next:", pool.has_next())
print("get_next in order:", [pool.get_next() for _ in range(5)])
try:
    pool.get_next()
except StopIteration as e:
    print("StopIteration:", e)
pool.submit(lambda a, v: a.double.remote(v), 10)
print("get_next_unordered:", pool.get_next_unordered(timeout=30))
idle = pool.pop_idle()
print("pop_idle is an actor:", idle is not None, "has_free after pop:", pool.has_free())
try:
    pool.push(actors[0] if idle is not actors[0] else actors[1])
except ValueError as e:
    print("push twice:", e)
pool.push(idle)
print("pushed back, free:", pool.has_free())

q = Queue(maxsize=3, actor_options={"num_cpus": 0})
q.put(1)
q.put_nowait(2)
print("size:", q.size(), len(q), q.qsize(), "empty:", q.empty(), "full:", q.full())
q.put_nowait_batch([3])
print("full now:", q.full())
try:
    q.put_nowait(4)
except Full:
    print("put_nowait on full: Full")
try:
    q.put(4, timeout=0.5)
except Full:
    print("put with timeout on full: Full")
try:
    q.put_nowait_batch([5, 6])
except Full as e:
    print("put_nowait_batch too many: Full", str(e).splitlines()[-1].partition(": ")[2])
print("get:", q.get(), "get_nowait:", q.get_nowait(), "batch:", q.get_nowait_batch(1))
try:
    q.get_nowait()
except Empty:
    print("get_nowait on empty: Empty")
try:
    q.get(timeout=0.5)
except Empty:
    print("get with timeout on empty: Empty")
try:
    q.get_nowait_batch(2)
except Empty as e:
    print("get_nowait_batch too many: Empty", str(e).splitlines()[-1].partition(": ")[2])
try:
    q.put(1, timeout=-1)
except ValueError as e:
    print("negative timeout:", e)


@ray.remote(num_cpus=0)
def producer(queue, n):
    for i in range(n):
        queue.put(i)
    return "produced"


@ray.remote(num_cpus=0)
class AsyncConsumer:
    async def consume(self, queue, n):
        return [await queue.get_async(timeout=30) for _ in range(n)]


consumer = AsyncConsumer.remote()
got = consumer.consume.remote(q, 6)
print(ray.get(producer.remote(q, 6)), ray.get(got))
q.shutdown()
print("after shutdown actor:", q.actor)


@ray.remote
def square(x):
    time.sleep(0.01 * (x % 3))
    return x * x


refs = [square.remote(i) for i in range(7)]
print("as_completed:", sorted(as_completed(refs, chunk_size=2)))
print("as_completed refs:", sorted(ray.get(list(as_completed(refs, yield_obj_refs=True)))))
print("map_unordered:", sorted(map_unordered(square, range(6), backpressure_size=2, chunk_size=1)))
try:
    list(as_completed(refs, chunk_size=0))
except ValueError as e:
    print("chunk_size 0:", e)


def add(a, b):
    return a + b


def fails(x):
    if x == 3:
        raise KeyError(x)
    return x


with Pool(processes=2) as p:
    print("pool map:", p.map(abs, [-1, -2, 3, -4]))
    print("pool map chunks:", p.map(abs, range(-9, 0), chunksize=4))
    print("pool imap:", list(p.imap(abs, [-3, -2, -1])))
    print("pool imap_unordered:", sorted(p.imap_unordered(abs, [-3, -2, -1], chunksize=2)))
    print("pool starmap:", p.starmap(add, [(1, 2), (3, 4)]))
    r = p.apply_async(add, (5, 6))
    print("apply_async:", r.get(timeout=30), r.ready(), r.successful())
    print("apply:", p.apply(add, (1, 1)))
    try:
        p.map(fails, range(5))
    except KeyError as e:
        print("pool map error: KeyError", e)
    bad = p.map_async(fails, range(5))
    bad.wait(30)
    print("map_async failed: ready", bad.ready(), "successful", bad.successful())
try:
    p.map(abs, [1])
except ValueError as e:
    print("after terminate:", e)
ray.shutdown()
