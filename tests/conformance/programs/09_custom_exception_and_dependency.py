"""Custom exception classes with args are reconstructed on the driver; a task that depends on a failed
task fails with the same error type without running."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


class InventoryError(Exception):
    def __init__(self, item, count):
        super().__init__(item, count)
        self.item = item
        self.count = count


class SubKeyError(KeyError):
    pass


@ray.remote
def custom():
    raise InventoryError("widget", 3)


@ray.remote
def sub_key():
    raise SubKeyError("k")


@ray.remote
def add_one(x):
    return x + 1


try:
    ray.get(custom.remote())
except Exception as e:
    print("class", type(e).__name__)
    print("is InventoryError", isinstance(e, InventoryError))
    print("is RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
    print("cause", type(e.cause).__name__, e.cause.args, e.cause.item, e.cause.count)

try:
    ray.get(sub_key.remote())
except KeyError as e:
    print("class", type(e).__name__)
    print("is SubKeyError", isinstance(e, SubKeyError), "is KeyError", isinstance(e, KeyError))
    print("cause", type(e.cause).__name__, e.cause.args)

# A downstream task whose argument failed gets the upstream error.
downstream = add_one.remote(custom.remote())
try:
    ray.get(downstream)
except Exception as e:
    print("downstream class", type(e).__name__)
    print("downstream is InventoryError", isinstance(e, InventoryError))
    print("downstream cause", type(e.cause).__name__, e.cause.args)

# Two levels of dependency.
chain = add_one.remote(add_one.remote(custom.remote()))
try:
    ray.get(chain)
except Exception as e:
    print("chain class", type(e).__name__, isinstance(e, InventoryError))

# A failing task that raises inside another task's ray.get nests the cause.
@ray.remote
def outer():
    return ray.get(custom.remote())


try:
    ray.get(outer.remote())
except Exception as e:
    print("outer class", type(e).__name__)
    print("outer is InventoryError", isinstance(e, InventoryError))
    print("outer cause", type(e.cause).__name__)

ray.shutdown()
