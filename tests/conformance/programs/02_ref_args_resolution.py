"""Top-level ObjectRef arguments are resolved to values; refs nested in lists/dicts are passed as ObjectRefs."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def produce(x):
    return x


@ray.remote
def top_level(a, b=None):
    return [type(a).__name__, isinstance(a, ray.ObjectRef), a, type(b).__name__, b]


@ray.remote
def in_list(lst):
    x = lst[0]
    return [isinstance(x, ray.ObjectRef), ray.get(x), lst[1]]


@ray.remote
def in_dict(d):
    x = d["ref"]
    return [isinstance(x, ray.ObjectRef), ray.get(x), d["plain"]]


@ray.remote
def in_tuple(t):
    return [isinstance(t[0], ray.ObjectRef), ray.get(t[0])]


r = produce.remote(42)
p = ray.put("stored")
print("top_level", ray.get(top_level.remote(r, b=p)))
print("in_list", ray.get(in_list.remote([r, 7])))
print("in_dict", ray.get(in_dict.remote({"ref": p, "plain": "v"})))
print("in_tuple", ray.get(in_tuple.remote((r,))))

# Refs in a list returned by a task stay refs on the driver side too.
@ray.remote
def wrap(ref_list):
    return ref_list


out = ray.get(wrap.remote([r]))
print("wrapped", isinstance(out[0], ray.ObjectRef), ray.get(out[0]))

ray.shutdown()
