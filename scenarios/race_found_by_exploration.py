"""A lost update that only some schedules show, found by a seed sweep and replayed by its seed.

Two deposits update one account actor with a read, a pause and a write. In the default order
(seed 0) the first deposit writes before the second reads, and the balance is right. But the
first one's write and the second one's read are due at the same virtual instant, and on a real
cluster either can come first: exploring seeds (`simray replay --seed N`, or
`pytest --simray-seeds=50`) finds the orders where the second reads the old balance and one
deposit is lost. The seed stated below is one of them:

    simray replay scenarios/race_found_by_exploration.py            # seed 2: the race
    simray replay scenarios/race_found_by_exploration.py --seed 0   # the default order: fine
"""
# simray-replay: seed=2

import os
import time

# The race needs the write and the read due at one virtual instant: the zero-cost latency model
# (with the default model the remote calls' latencies separate them and every seed loses it).
os.environ.setdefault("SIMRAY_SIM_LATENCY", "0")

import ray  # noqa: E402

ray.init(num_cpus=2)


@ray.remote
class Account:
    def __init__(self):
        self.balance = 100

    def read(self):
        return self.balance

    def write(self, value):
        self.balance = value


@ray.remote
def deposit(account, amount, pauses):
    for pause in pauses:  # arrive at t=1: the first deposit at once, the second in two steps
        time.sleep(pause)
    balance = ray.get(account.read.remote())
    time.sleep(1)  # the race window: between the read and the write
    ray.get(account.write.remote(balance + amount))


account = Account.remote()
ray.get([deposit.remote(account, 10, [0]), deposit.remote(account, 20, [0.5, 0.5])])
final = ray.get(account.read.remote())
print(f"balance {final} (expected 130)")
print("lost update!" if final != 130 else "no update lost")
ray.shutdown()
