"""Which ends of an actor's process restart it (Ray 2.60). `ray.kill(actor,
no_restart=False)`: the process is killed and, while `max_restarts` lasts, the actor restarts
(its constructor runs again); a call in flight is told the actor is unavailable; with no
restart left the actor is dead, and its calls name both the worker's exit and `ray.kill`.
`no_restart=True` (the default) ends a restartable actor for good. A process that ends by
itself: `sys.exit(0)` in a method is an intended exit (no restart), `sys.exit(1)`, `sys.exit()`
and `os._exit(0)` restart it, their callers told why.

ray.kill returns before the process is gone: the driver polls until a call tells it so. Real
Ray prints a "(raylet) A worker died ..." notice (ids, pids) on the driver's sys.stdout when a
worker dies unexpectedly, so this program writes its own lines to the original stdout."""

import os
import re
import sys

OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import ray  # noqa: E402

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

    def end(self, how):
        if how == "sys.exit(0)":
            sys.exit(0)
        if how == "sys.exit(1)":
            sys.exit(1)
        if how == "sys.exit()":
            sys.exit()
        os._exit(0)

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
            emit(label, type(e).__name__, last_line(e))
            return


c = Counter.remote()
emit("calls before:", [ray.get(c.count.remote()) for _ in range(3)])
started = Signal.remote()
held = c.hold.remote(started)
while not ray.get(started.is_sent.remote()):
    pass
ray.kill(c, no_restart=False)
try:
    ray.get(held)
except ray.exceptions.RayActorError as e:
    emit("in flight:", type(e).__name__, "temporarily unavailable" in str(e))
emit("after the restart:", count_after_kill(c), ray.get(c.count.remote()))

# The restart is spent: the next kill ends it.
ray.kill(c, no_restart=False)
died(c, "no restart left:")

# no_restart=True ends a restartable actor at once.
d = Counter.remote()
emit(ray.get(d.count.remote()))
ray.kill(d)
died(d, "no_restart=True:")
# A process that ends by itself.
for how in ["sys.exit(0)", "sys.exit(1)", "sys.exit()", "os._exit(0)"]:
    e = Counter.remote()
    ray.get(e.count.remote())
    try:
        ray.get(e.end.remote(how))
    except ray.exceptions.RayActorError as error:
        text = str(error).replace(e._actor_id.hex(), "ID")
        # How the lost connection shows varies on Ray (socket closed, connection reset).
        text = re.sub(r"RPC error: .*? rpc_code", "RPC error: ... rpc_code", text)
        emit(how, "->", type(error).__name__, text.splitlines()[-1])
    try:
        emit("   then:", count_after_kill(e))
    except ray.exceptions.ActorDiedError as error:
        emit("   then:", type(error).__name__)
ray.shutdown()
