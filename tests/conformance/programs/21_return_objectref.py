"""A task that returns an ObjectRef gives the driver a ref to a ref (get it twice); returning a
ray.put result works the same; ray.get does not unwrap nested refs automatically."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def inner(x):
    return x * 2


@ray.remote
def returns_task_ref(x):
    return inner.remote(x)


@ray.remote
def returns_put_ref(x):
    return ray.put({"value": x})


@ray.remote
def returns_list_of_refs(n):
    return [ray.put(i) for i in range(n)]


outer = returns_task_ref.remote(21)
first = ray.get(outer)
print("first is ref", isinstance(first, ray.ObjectRef))
print("second", ray.get(first))

outer = returns_put_ref.remote(5)
first = ray.get(outer)
print("put first is ref", isinstance(first, ray.ObjectRef))
print("put second", ray.get(first))

refs = ray.get(returns_list_of_refs.remote(3))
print("list of refs", [isinstance(r, ray.ObjectRef) for r in refs], ray.get(refs))

# Passing the returned ref as a top-level argument resolves one level only.
@ray.remote
def describe(x):
    return type(x).__name__, isinstance(x, ray.ObjectRef)


print("describe outer", ray.get(describe.remote(returns_task_ref.remote(1))))
print("describe inner", ray.get(describe.remote(ray.get(returns_task_ref.remote(1)))))

# ray.put of a plain value gives a ref whose get is the value.
p = ray.put([1, 2, 3])
print("put", isinstance(p, ray.ObjectRef), ray.get(p))

ray.shutdown()
