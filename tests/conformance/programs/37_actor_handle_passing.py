"""Actor handles can be passed to tasks and to other actors; calls through any copy of the
handle reach the same actor and its state."""
import ray

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
class Store:
    def __init__(self):
        self.data = {}

    def put(self, k, v):
        self.data[k] = v
        return len(self.data)

    def get(self, k):
        return self.data.get(k)

    def items(self):
        return sorted(self.data.items())


@ray.remote
def writer(store, k, v):
    return ray.get(store.put.remote(k, v)) > 0


@ray.remote
def reader(store, k):
    return ray.get(store.get.remote(k))


@ray.remote
def nested(handles):
    # Handles inside a list arrive as handles, too.
    return [ray.get(h.get.remote("x")) for h in handles]


@ray.remote
class Forwarder:
    def __init__(self, store):
        self.store = store

    def forward(self, k, v):
        return ray.get(self.store.put.remote(k, v))

    def set_store(self, store):
        self.store = store
        return True

    def read(self, k):
        return ray.get(self.store.get.remote(k))


s = Store.remote()
print("writers", ray.get([writer.remote(s, "k%d" % i, i) for i in range(6)]))
print("items", ray.get(s.items.remote()))
print("reader", ray.get(reader.remote(s, "k3")))
print("reader missing", ray.get(reader.remote(s, "zzz")))

f = Forwarder.remote(s)
print("forward", ray.get(f.forward.remote("x", "from forwarder")))
print("driver sees", ray.get(s.get.remote("x")))
print("forwarder reads", ray.get(f.read.remote("k5")))

s2 = Store.remote()
ray.get(s2.put.remote("x", "second store"))
print("set_store", ray.get(f.set_store.remote(s2)))
print("forwarder reads x", ray.get(f.read.remote("x")))
print("nested list", ray.get(nested.remote([s, s2])))

# A handle returned from a task can be used by the driver.
@ray.remote
def make_store():
    st = Store.remote()
    ray.get(st.put.remote("made", "in task"))
    return st


made = ray.get(make_store.remote())
print("returned handle type", type(made).__name__)
print("returned handle get", ray.get(made.get.remote("made")))

ray.shutdown()
