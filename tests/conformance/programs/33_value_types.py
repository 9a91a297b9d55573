"""Arguments and return values of many Python types (including classes defined in the driver script)
round-trip through tasks and ray.put unchanged."""
import collections
import dataclasses

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Box:
    def __init__(self, items):
        self.items = items

    def total(self):
        return sum(self.items)


Pair = collections.namedtuple("Pair", ["left", "right"])


@ray.remote
def echo(x):
    return x


@ray.remote
def describe(x):
    return type(x).__name__


values = [
    None,
    True,
    0,
    -7,
    2**100,
    1.5,
    "text",
    "ünïcode",
    b"\x00\x01bytes",
    (1, (2, 3)),
    [1, [2, [3]]],
    {"a": 1, "b": [2, 3]},
    {3, 1, 2},
    frozenset({"x"}),
    Point(1, 2),
    Pair(1, "r"),
    range(3),
    complex(1, -2),
]
for v in values:
    out = ray.get(echo.remote(v))
    print(repr(v) if not isinstance(v, (set, frozenset)) else sorted(v), "->", ray.get(describe.remote(v)),
          out == v, type(out) is type(v))

box = ray.get(echo.remote(Box([1, 2, 3])))
print("Box", type(box).__name__, box.total())
print("put Point", ray.get(ray.put(Point(3, 4))))
print("float arithmetic", round(ray.get(echo.remote(0.1)) + 0.2, 4))

# Keyword arguments and defaults.
@ray.remote
def kw(a, b=2, *args, c=3, **kwargs):
    return a, b, args, c, sorted(kwargs.items())


print("kwargs", ray.get(kw.remote(1)))
print("kwargs", ray.get(kw.remote(1, 5, 6, 7, c=8, d=9)))

ray.shutdown()
