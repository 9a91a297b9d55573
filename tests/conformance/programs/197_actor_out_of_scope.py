"""A non-detached actor ends once its owner's last handle is gone (Ray 2.60): calls submitted
before still run, its lifetime CPU returns, neither its name nor a `get_actor` handle keeps it,
and one dropped while waiting for a CPU never runs. One CPU: whatever pends shows here."""

import ray

ray.init(num_cpus=1)


@ray.remote(num_cpus=1)
class Worker:
    def __init__(self, tag):
        self.tag = tag

    def work(self, x):
        return f"{self.tag}:{x}"


@ray.remote(num_cpus=1)
def needs_cpu():
    return "the CPU is free"


def died(weak):
    try:
        ray.get(weak.work.remote(0))
    except ray.exceptions.ActorDiedError as e:
        # Ray's GCS hears of the end twice (the owner's out-of-scope report, and its answer to
        # the GCS's wait for the ref's deletion); whichever comes first names the cause, the
        # second adding " including lineage ref count".
        lines = str(e).replace(" including lineage ref count", "").splitlines()
        print(type(e).__name__, lines[0], *[ln for ln in lines if not ln.startswith("\t")][1:])


# Each actor needs the only CPU: each must end (its handle a temporary) before the next starts.
print([ray.get(Worker.remote(i).work.remote(i)) for i in range(4)])

# Calls submitted before the last handle went run first, in order.
w = Worker.remote("w")
refs = [w.work.remote(i) for i in range(3)]
del w
print(ray.get(refs))
print(ray.get(needs_cpu.remote()))

# A named actor: the name does not keep it alive, nor does a handle from get_actor.
n = Worker.options(name="named").remote("n")
weak = ray.get_actor("named")
print(ray.get(weak.work.remote(1)))
del n
print(ray.get(needs_cpu.remote()))
died(weak)
try:
    ray.get_actor("named")
except ValueError as e:
    print("ValueError:", str(e).split(".")[0])

# Dropped while its creation waits for the CPU: it never runs.
blocker = Worker.remote("b")
print(ray.get(blocker.work.remote(0)))
p = Worker.options(name="pending").remote("p")
weak = ray.get_actor("pending")
del p
del blocker
print(ray.get(needs_cpu.remote()))
died(weak)
ray.shutdown()
