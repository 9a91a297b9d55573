"""A 10 MB object round-trips through ray.put / ray.get and as a task return value, byte for byte."""
import hashlib

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


def digest(b):
    return hashlib.sha256(b).hexdigest()[:16]


payload = b"x" * 10_000_000
ref = ray.put(payload)
got = ray.get(ref)
print("put", len(got), digest(got), got == payload)


@ray.remote
def make_big(n):
    return bytes(i % 251 for i in range(n))


@ray.remote
def size_and_digest(b):
    return len(b), digest(b)


big_ref = make_big.remote(10_000_000)
big = ray.get(big_ref)
print("task return", len(big), digest(big))
# Pass the large object on to another task, by ref and after ray.put.
print("passed by ref", ray.get(size_and_digest.remote(big_ref)))
print("passed put ref", ray.get(size_and_digest.remote(ref)))
# Get twice: the same content.
print("get again", digest(ray.get(big_ref)) == digest(big))

ray.shutdown()
