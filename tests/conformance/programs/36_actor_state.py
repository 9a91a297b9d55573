"""Actor state persists across method calls; constructor args and kwargs are passed; separate
instances of one class keep separate state; a method can return the actor's whole state."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Counter:
    def __init__(self, start=0, step=1, *, label="c"):
        self.value = start
        self.step = step
        self.label = label
        self.history = []

    def incr(self, times=1):
        for _ in range(times):
            self.value += self.step
        self.history.append(self.value)
        return self.value

    def read(self):
        return self.value

    def state(self):
        return {"label": self.label, "value": self.value, "history": self.history}

    def reset(self):
        old = self.value
        self.value = 0
        return old


c = Counter.remote()
print("first", ray.get(c.incr.remote()))
print("second", ray.get(c.incr.remote()))
print("many", ray.get([c.incr.remote() for _ in range(5)]))
print("read", ray.get(c.read.remote()))
print("incr times=3", ray.get(c.incr.remote(times=3)))

d = Counter.remote(100, 10, label="d")
e = Counter.remote(start=-5, label="e")
print("d", ray.get(d.incr.remote(2)))
print("e", ray.get(e.incr.remote()))
print("c unchanged", ray.get(c.read.remote()))
print("state d", ray.get(d.state.remote()))
print("state e", ray.get(e.state.remote()))
print("reset c", ray.get(c.reset.remote()), ray.get(c.read.remote()))
print("after reset", ray.get(c.incr.remote()))

# A mutable value passed in is copied; mutating it afterwards does not affect the actor.
@ray.remote
class Holder:
    def __init__(self, items):
        self.items = items

    def add(self, x):
        self.items.append(x)
        return list(self.items)


src = [1, 2]
h = Holder.remote(src)
src.append(99)
print("holder", ray.get(h.add.remote(3)))
print("holder again", ray.get(h.add.remote(4)))
print("driver list", src)

# Object refs are resolved when passed as top-level method args.
ref = ray.put(7)
print("ref arg", ray.get(c.incr.remote(ref)))

ray.shutdown()
