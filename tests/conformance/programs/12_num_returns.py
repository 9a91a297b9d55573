"""num_returns: 2 and 3 give that many refs; num_returns=1 gives one ref holding a tuple;
num_returns=0 makes .remote() return None; a wrong-length return fails."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote(num_returns=2)
def two():
    return "a", "b"


@ray.remote(num_returns=3)
def three(x):
    return x, x * 2, x * 3


@ray.remote
def one_tuple():
    return 1, 2


@ray.remote(num_returns=0)
def nothing():
    return None


@ray.remote(num_returns=2)
def wrong_length():
    return 1, 2, 3


out = two.remote()
print("two type", type(out).__name__, len(out), all(isinstance(r, ray.ObjectRef) for r in out))
a, b = out
print("two values", ray.get(a), ray.get(b))

refs = three.remote(5)
print("three", len(refs), ray.get(list(refs)))

single = one_tuple.remote()
print("one ref", isinstance(single, ray.ObjectRef), ray.get(single))

print("zero", nothing.remote())

# Multiple returns can feed other tasks individually.
@ray.remote
def add(x, y):
    return x + y


x, y, z = three.remote(2)
print("chained", ray.get(add.remote(x, z)))

# A list return value with num_returns=2 is split too.
@ray.remote(num_returns=2)
def as_list():
    return [10, 20]


print("list split", ray.get(list(as_list.remote())))

try:
    ray.get(list(wrong_length.remote()))
    print("wrong length ok")
except Exception as e:
    print("wrong length", isinstance(e, ray.exceptions.RayTaskError), isinstance(e, ValueError))

ray.shutdown()
