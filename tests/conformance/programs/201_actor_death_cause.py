"""`ray.util.state.list_actors(detail=True)`'s `death_cause` of dead actors (Ray 2.60): a
constructor that raised gives a `creation_task_failure_context`; every other end an
`actor_died_error_context` whose `error_message` is the one line saying why (not the
ActorDiedError's whole text), with reason RAY_KILL, OUT_OF_SCOPE, or WORKER_DIED (also for
`exit_actor()` and `__ray_terminate__`); an actor that never started has no node ip or pid.

The state API is eventually consistent on Ray: the driver polls until every row is dead."""

import time

import ray
from ray.util.state import list_actors

ray.init(num_cpus=1)


@ray.remote(num_cpus=0)
class Resource:
    def ping(self):
        return "pong"

    def leave(self):
        ray.actor.exit_actor()


@ray.remote(num_cpus=0)
class Broken:
    def __init__(self):
        raise ValueError("no")

    def ping(self):
        return "pong"


@ray.remote(num_cpus=1)
class Hungry:
    def ping(self):
        return "pong"


labels = {}


def made(label, handle):
    labels[handle._actor_id.hex()] = label
    return handle


killed = made("killed", Resource.remote())
ray.get(killed.ping.remote())
ray.kill(killed)

leaver = made("exit_actor", Resource.remote())
ray.get(leaver.ping.remote())
try:
    ray.get(leaver.leave.remote())
except ray.exceptions.ActorDiedError:
    pass

ended = made("__ray_terminate__", Resource.remote())
ray.get(ended.ping.remote())
ended.__ray_terminate__.remote()

dropped = made("out of scope", Resource.remote())
ray.get(dropped.ping.remote())
del dropped

broken = made("constructor raised", Broken.remote())
try:
    ray.get(broken.ping.remote())
except ray.exceptions.ActorDiedError:
    pass

blocker = made("blocker", Hungry.remote())  # holds the only CPU: the next two never start
ray.get(blocker.ping.remote())
made("dropped before start", Hungry.remote())
pending = made("killed before start", Hungry.remote())
ray.kill(pending)


def dead_rows():
    rows = [r for r in list_actors(detail=True) if r["actor_id"] in labels]
    return [r for r in rows if r["state"] == "DEAD" and r["death_cause"] is not None]


while len(rows := dead_rows()) < len(labels) - 1:  # all but the blocker
    time.sleep(0.2)

for row in sorted(rows, key=lambda r: labels[r["actor_id"]]):
    [(kind, context)] = row["death_cause"].items()
    print(labels[row["actor_id"]], row["state"], kind)
    if kind == "creation_task_failure_context":
        print("   ", sorted(context), context["language"])
        continue
    # Ray's GCS hears of an out-of-scope end twice; whichever notice comes first names it (the
    # second says REF_DELETED and adds " including lineage ref count").
    message = context["error_message"].replace(" including lineage ref count", "")
    reason = context["reason"].replace("REF_DELETED", "OUT_OF_SCOPE")
    print("   ", reason, repr(message))
    print(
        "    never_started:",
        context["never_started"],
        "no node ip:",
        context["node_ip_address"] == "",
        "no pid:",
        context["pid"] == 0,
        "class:",
        context["class_name"],
    )
ray.shutdown()
