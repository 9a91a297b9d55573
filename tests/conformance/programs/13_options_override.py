"""`.options()` overrides num_cpus/num_returns/name per call without changing the decorated function;
unknown option names are rejected."""
import ray

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote(num_cpus=1)
def assigned_cpus():
    return ray.get_runtime_context().get_assigned_resources().get("CPU")


@ray.remote
def pair():
    return 1, 2


print("default cpus", ray.get(assigned_cpus.remote()))
print("options cpus", ray.get(assigned_cpus.options(num_cpus=3).remote()))
print("default again", ray.get(assigned_cpus.remote()))
print("options name", ray.get(assigned_cpus.options(name="custom_name").remote()))

r = pair.remote()
print("pair default", isinstance(r, ray.ObjectRef), ray.get(r))
a, b = pair.options(num_returns=2).remote()
print("pair num_returns=2", ray.get(a), ray.get(b))

# options() returns something with .remote that can be reused.
opt = assigned_cpus.options(num_cpus=2)
print("reused", ray.get([opt.remote(), opt.remote()]))

for label, kwargs in [("unknown option", {"num_cpu": 2}), ("misspelled", {"nmae": "x"})]:
    try:
        assigned_cpus.options(**kwargs).remote()
        print(label, "accepted")
    except Exception as e:
        print(label, type(e).__name__, list(kwargs)[0] in str(e))

try:
    @ray.remote(bogus_option=1)
    def g():
        return 0
    print("decorator unknown accepted")
except Exception as e:
    print("decorator unknown", type(e).__name__, "bogus_option" in str(e))

# Calling a remote function directly is an error.
try:
    assigned_cpus()
except Exception as e:
    print("direct call", type(e).__name__, ".remote()" in str(e))

ray.shutdown()
