"""ray.wait: num_returns caps the ready list, timeout=0 polls, the not-ready list keeps input order,
and an empty list gives ([], []).

The unfinished tasks wait on a SignalActor rather than sleeping, so that no line depends on how
fast a loaded machine starts workers."""
import ray
from ray._common.test_utils import SignalActor

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
def quick(i):
    return i


@ray.remote
def slow(i, signal):
    ray.get(signal.wait.remote())
    return i


# All finished: num_returns=2 gives exactly 2 ready, 3 not ready (which ones is unspecified).
refs = [quick.remote(i) for i in range(5)]
ray.get(refs)
ready, not_ready = ray.wait(refs, num_returns=2)
print("finished num_returns=2", len(ready), len(not_ready))
print("partition complete", sorted(ray.get(ready + not_ready)))
ready, not_ready = ray.wait(refs, num_returns=5, timeout=0)
print("finished timeout=0 all", len(ready), len(not_ready))
print("ready in input order", ready == refs)

# Default num_returns=1.
ready, not_ready = ray.wait(refs)
print("default num_returns", len(ready), len(not_ready))

# Unfinished tasks: timeout=0 returns nothing ready.
signal = SignalActor.remote()
slow_refs = [slow.remote(i, signal) for i in range(3)]
ready, not_ready = ray.wait(slow_refs, num_returns=3, timeout=0)
print("unfinished timeout=0", len(ready), len(not_ready))
print("not ready keeps order", not_ready == slow_refs)

# Mixed: one quick (finished) among slow ones.
q = quick.remote(99)
ray.get(q)
mixed = [slow_refs[2], q, slow_refs[0], slow_refs[1]]
ready, not_ready = ray.wait(mixed, num_returns=1, timeout=0)
print("mixed ready", ray.get(ready))
print("mixed not ready order", not_ready == [slow_refs[2], slow_refs[0], slow_refs[1]])

# num_returns=2 with a timeout that expires: only the quick one is ready.
ready, not_ready = ray.wait(mixed, num_returns=2, timeout=0.5)
print("timeout expired", len(ready), len(not_ready), ray.get(ready))

# Release the slow ones, then wait without timeout for all of them.
ray.get(signal.send.remote())
ready, not_ready = ray.wait(mixed, num_returns=4)
print("all ready", len(ready), len(not_ready), sorted(ray.get(ready)))
print("all ready in input order", ready == mixed)

# Empty list.
print("empty", ray.wait([]))
print("empty with timeout", ray.wait([], timeout=0))

# fetch_local=False is accepted.
ready, not_ready = ray.wait(refs, num_returns=5, fetch_local=False)
print("fetch_local False", len(ready), len(not_ready))

ray.shutdown()
