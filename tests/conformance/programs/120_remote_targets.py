"""What @ray.remote accepts: Python functions and classes; builtins, partials and callable
objects get Ray's TypeError."""

import functools

import ray

ray.init(num_cpus=1)


class Callable:
    def __call__(self, x):
        return x


def add(a, b):
    return a + b


for label, target in [
    ("builtin len", len),
    ("builtin print", print),
    ("functools.partial", functools.partial(add, 1)),
    ("callable object", Callable()),
]:
    try:
        ray.remote(target)
        print(label, "accepted")
    except TypeError as e:
        print(label, "TypeError:", e)

print("function", ray.get(ray.remote(add).remote(1, 2)))
print("lambda", ray.get(ray.remote(lambda x: x * 3).remote(2)))
print("options form", ray.get(ray.remote(num_cpus=1)(add).remote(2, 2)))
try:
    ray.remote(num_cpus=1)(len)
except TypeError as e:
    print("options form builtin TypeError:", e)
ray.shutdown()
