"""Multiple return values for actor methods: @ray.method(num_returns=2) and
.options(num_returns=...) on a single method call."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Splitter:
    def __init__(self):
        self.calls = 0

    @ray.method(num_returns=2)
    def pair(self, x):
        self.calls += 1
        return x, x + 1

    def plain(self, x):
        self.calls += 1
        return x, -x

    @ray.method(num_returns=3)
    def triple(self):
        return [1, 2, 3]

    def count(self):
        return self.calls


s = Splitter.remote()
out = s.pair.remote(10)
print("pair type", type(out).__name__, len(out), all(isinstance(r, ray.ObjectRef) for r in out))
a, b = out
print("pair values", ray.get(a), ray.get(b))

one = s.plain.remote(4)
print("plain is one ref", isinstance(one, ray.ObjectRef), ray.get(one))

x, y = s.plain.options(num_returns=2).remote(7)
print("options num_returns=2", ray.get(x), ray.get(y))

# The decorator default still applies after an override on another call.
print("plain again", ray.get(s.plain.remote(1)))

# Overriding a decorated method back to 1 gives the whole tuple in one ref.
whole = s.pair.options(num_returns=1).remote(3)
print("pair as one", isinstance(whole, ray.ObjectRef), ray.get(whole))

print("triple", ray.get(list(s.triple.remote())))
print("count", ray.get(s.count.remote()))

# Individual refs can be passed on to tasks.
@ray.remote
def add(p, q):
    return p + q


p, q = s.pair.remote(100)
print("sum of pair", ray.get(add.remote(p, q)))

# A wrong-length return fails on get.
try:
    ray.get(list(s.plain.options(num_returns=3).remote(1)))
    print("wrong length ok")
except Exception as e:
    print("wrong length", isinstance(e, ray.exceptions.RayTaskError))
print("actor still works", ray.get(s.count.remote()))

ray.shutdown()
