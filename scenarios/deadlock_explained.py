"""A GPU task that waits for another GPU task on a one-GPU cluster: a deadlock, explained.

Real Ray hangs here for ever (the inner task can never get the only GPU, which the outer task
keeps while it waits: a blocked task gives back its CPU, never its GPU). On simray's sim backend
the driver gets a DeadlockError at once whose message is the wait-for chain: who holds the GPU,
who waits for which object, and why the inner task cannot start.

    simray replay scenarios/deadlock_explained.py
"""
# simray-replay: seed=0

import ray

from simray.exceptions import DeadlockError

ray.init(num_cpus=4, num_gpus=1)


@ray.remote(num_gpus=1)
def embed(batch):
    return [x * 2 for x in batch]


@ray.remote(num_gpus=1)
def train(batches):
    embedded = ray.get([embed.remote(b) for b in batches])  # needs a second GPU: never comes
    return sum(map(sum, embedded))


try:
    ray.get(train.remote([[1, 2], [3, 4]]))
except DeadlockError as e:
    print("DeadlockError:")
    print(e)
ray.shutdown()
