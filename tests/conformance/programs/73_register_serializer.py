"""ray.util.register_serializer / deregister_serializer: values the driver serializes (put,
task and actor arguments, nested ones) use the registered serializer and are rebuilt by the
deserializer; a worker has no registration of its own; deregistering restores the default."""

import threading

import ray
from ray.util import deregister_serializer, register_serializer

ray.init(num_cpus=1, include_dashboard=False)


class Locked:
    def __init__(self, value):
        self.value = value
        self.lock = threading.Lock()  # not picklable


def describe(x):
    return f"{type(x).__name__}({x.value}, lock={type(x.lock).__name__})"


@ray.remote
def show(x, nested):
    return describe(x), [describe(n) for n in nested["items"]]


@ray.remote
def make(v):
    return Locked(v)


@ray.remote
class Holder:
    def __init__(self, x):
        self.x = x

    def get(self):
        return describe(self.x)


def attempt(label, fn):
    try:
        print(label, fn())
    except Exception as e:
        print(label, "raised", type(e).__name__, "pickle" in str(e).lower() or "serial" in str(e).lower())


attempt("put before:", lambda: ray.get(ray.put(Locked(1))))
register_serializer(Locked, serializer=lambda o: o.value, deserializer=lambda v: Locked(v * 10))
attempt("put:", lambda: describe(ray.get(ray.put(Locked(2)))))
attempt("args:", lambda: ray.get(show.remote(Locked(3), {"items": [Locked(4), Locked(5)]})))
attempt("actor:", lambda: ray.get(Holder.remote(Locked(6)).get.remote()))
attempt("return from worker:", lambda: describe(ray.get(make.remote(7))))
register_serializer(Locked, serializer=lambda o: -o.value, deserializer=lambda v: Locked(v))
attempt("re-registered:", lambda: describe(ray.get(ray.put(Locked(8)))))
deregister_serializer(Locked)
attempt("put after deregister:", lambda: ray.get(ray.put(Locked(9))))
deregister_serializer(Locked)
print("deregister twice: ok")
ray.shutdown()
