"""Values cross task boundaries as copies: task-side mutation of an argument does not affect the driver,
and mutating a list after ray.put does not change the stored object."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def mutate(lst):
    lst.append("task")
    lst[0] = "changed"
    return lst


@ray.remote
def mutate_dict(d):
    d["added"] = True
    return sorted(d.items())


data = ["orig", 1]
print("task result", ray.get(mutate.remote(data)))
print("driver list", data)

stored = [1, 2, 3]
ref = ray.put(stored)
stored.append(4)
stored[0] = 100
print("stored object", ray.get(ref))
print("driver after mutation", stored)

# The same ref given to a mutating task twice: each task gets a fresh copy.
print("task on put ref", ray.get(mutate.remote(ref)))
print("again", ray.get(mutate.remote(ref)))
print("stored still", ray.get(ref))

# Mutating the result of ray.get does not change the stored object either.
got = ray.get(ref)
got.append("local")
print("get again", ray.get(ref))

d = {"k": 1}
print("dict task", ray.get(mutate_dict.remote(d)))
print("driver dict", sorted(d.items()))

# Identity is not preserved across get calls, equality is.
a = ray.get(ref)
b = ray.get(ref)
print("equal", a == b)

ray.shutdown()
