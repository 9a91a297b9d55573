"""ray.get on a list returns results in input order, even when later tasks finish first."""
import time

import ray

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
def sleeper(i, delay):
    time.sleep(delay)
    return i * 10


# Task 0 sleeps longest, task 3 finishes first.
refs = [sleeper.remote(i, 0.4 * (3 - i)) for i in range(4)]
print("results", ray.get(refs))

# ray.get on a reversed list follows the list order too.
print("reversed", ray.get(list(reversed(refs))))

# Duplicate refs in a get list are allowed and returned in place.
print("dupes", ray.get([refs[2], refs[0], refs[2]]))

# A single ref (not a list) returns the bare value.
print("single", ray.get(refs[1]))

# An empty list returns an empty list.
print("empty", ray.get([]))

ray.shutdown()
