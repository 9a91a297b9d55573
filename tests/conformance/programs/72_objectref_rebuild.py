"""ray.ObjectRef(binary): a ref rebuilt from an id names the same object (get, wait, as an
argument, nested in one, kept in scope after the original is dropped); a freed or unknown id
waits until the timeout; a wrong length is rejected; ObjectRef.from_hex is not implemented."""

import ray
ray.init(num_cpus=2)

@ray.remote
def f(x):
    return x * 2

@ray.remote
def g(box):
    return ray.get(box[0]) + 1

a = ray.put(21)
r = ray.ObjectRef(a.binary())
print(ray.get(r), r == a, hash(r) == hash(a), type(r).__name__, r.hex() == a.hex())
b = f.remote(5)
rb = ray.ObjectRef(b.binary())
print(ray.get(rb), ray.get([rb, r]))
ready, not_ready = ray.wait([rb], timeout=5)
print(len(ready), len(not_ready))
print(ray.get(f.remote(r)), ray.get(g.remote([rb])))
x = ray.put("kept")
xb = x.binary()
rx = ray.ObjectRef(xb)
del x
print(ray.get(rx))
y = ray.put(5)
yb = y.binary()
del y
try:
    ray.get(ray.ObjectRef(yb), timeout=2)
except ray.exceptions.GetTimeoutError as e:
    print("freed:", type(e).__name__, e)
try:
    ray.get(ray.ObjectRef(b"\x01" * 28), timeout=2)
except ray.exceptions.GetTimeoutError as e:
    print("unknown:", type(e).__name__, e)
try:
    ray.ObjectRef(b"\x01" * 5)
except ValueError as e:
    print("short:", type(e).__name__, e)
try:
    ray.ObjectRef.from_hex(a.hex())
except NotImplementedError as e:
    print("from_hex:", type(e).__name__, e)
print(ray.ObjectRef.nil().is_nil(), ray.ObjectRef(a.binary()).is_nil())
ray.shutdown()
