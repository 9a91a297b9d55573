"""`ray.kill(actor, no_restart=False)` (Ray 2.60): the actor's process is killed and, while
`max_restarts` lasts, the actor restarts (its constructor runs again, `num_restarts` counts it);
a call in flight is told the actor is unavailable; with no restart left the actor is dead, and
its calls name both the worker's exit and `ray.kill`. `no_restart=True` (the default) ends a
restartable actor for good.

ray.kill returns before the process is gone: the driver polls until a call tells it so."""

import ray

ray.init(num_cpus=1, include_dashboard=False)


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self):
        self.sent = False

    def send(self):
        self.sent = True

    def is_sent(self):
        return self.sent


@ray.remote(num_cpus=0, max_restarts=1)
class Counter:
    def __init__(self):
        self.calls = 0

    def count(self):
        self.calls += 1
        return self.calls

    def hold(self, started):
        ray.get(started.send.remote())
        while True:  # until the process is killed
            ray.get(started.is_sent.remote())


def last_line(error):
    return str(error).splitlines()[-1]


def count_after_kill(actor):
    """The first answer of a call that ran after the restart (a call that reached the old
    process before it went is told the actor is unavailable)."""
    while True:
        try:
            calls = ray.get(actor.count.remote())
        except ray.exceptions.ActorUnavailableError:
            continue
        if calls == 1:  # a fresh instance: the restart happened
            return calls


def died(actor, label):
    """Call until the actor's death shows (calls may reach the process before it goes)."""
    while True:
        try:
            ray.get(actor.count.remote())
        except ray.exceptions.ActorUnavailableError:
            continue
        except ray.exceptions.ActorDiedError as e:
            print(label, type(e).__name__, last_line(e))
            return


c = Counter.remote()
print("calls before:", [ray.get(c.count.remote()) for _ in range(3)])
started = Signal.remote()
held = c.hold.remote(started)
while not ray.get(started.is_sent.remote()):
    pass
ray.kill(c, no_restart=False)
try:
    ray.get(held)
except ray.exceptions.RayActorError as e:
    print("in flight:", type(e).__name__, "temporarily unavailable" in str(e))
print("after the restart:", count_after_kill(c), ray.get(c.count.remote()))

# The restart is spent: the next kill ends it.
ray.kill(c, no_restart=False)
died(c, "no restart left:")

# no_restart=True ends a restartable actor at once.
d = Counter.remote()
print(ray.get(d.count.remote()))
ray.kill(d)
died(d, "no_restart=True:")
ray.shutdown()
