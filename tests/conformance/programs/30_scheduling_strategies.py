"""scheduling_strategy="SPREAD" and "DEFAULT" are accepted (decorator and .options) and tasks run
on a single node; ray.nodes() reports one node with the configured resources."""
import ray

ray.init(num_cpus=3, num_gpus=0, resources={"gadget": 2}, include_dashboard=False)


@ray.remote(scheduling_strategy="SPREAD")
def spread(i):
    return i * i


@ray.remote(scheduling_strategy="DEFAULT")
def default(i):
    return -i


@ray.remote
def plain(i):
    return i


print("spread", ray.get([spread.remote(i) for i in range(6)]))
print("default", ray.get([default.remote(i) for i in range(6)]))
print("options spread", ray.get([plain.options(scheduling_strategy="SPREAD").remote(i) for i in range(4)]))
print("options default", ray.get([spread.options(scheduling_strategy="DEFAULT").remote(i) for i in range(4)]))
print("spread with resources", ray.get(spread.options(num_cpus=2, resources={"gadget": 1}).remote(7)))

nodes = ray.nodes()
print("nodes", len(nodes))
print("alive", [n["Alive"] for n in nodes])
print("node resources", sorted((k, v) for k, v in nodes[0]["Resources"].items() if k in ("CPU", "GPU", "gadget")))

try:
    plain.options(scheduling_strategy="NOPE").remote(1)
    print("bad strategy accepted")
except Exception as e:
    print("bad strategy", type(e).__name__)

ray.shutdown()
