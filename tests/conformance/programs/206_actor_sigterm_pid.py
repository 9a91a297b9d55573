"""SIGTERM to an actor's own process (Ray 2.60): the worker's handler raises SystemExit(1), so the
actor exits gracefully (`__del__`, then the atexit handlers) and the caller is told "Worker
exits with an exit code 1. The process receives a SIGTERM." (a dead actor's detail, or while it
restarts `UnexpectedSystemExit`). ActorDiedError texts and `death_cause` name the pid that
`os.getpid()` gave inside the actor.

The finalizers write to a file the driver polls; the state API is polled until the row is dead,
the restarted actor until it answers. Real Ray prints a "(raylet) A worker died ..." notice
(ids, pids) on the driver's sys.stdout, so this program writes its own lines to the original
stdout."""

import atexit
import os
import signal
import sys
import tempfile
import time

OUT = sys.stdout
sys.stdout = sys.stderr


def print(*args):  # noqa: A001 - this program's lines go to the original stdout
    OUT.write(" ".join(str(a) for a in args) + "\n")
    OUT.flush()


import ray  # noqa: E402
from ray.util.state import list_actors  # noqa: E402

ray.init(num_cpus=1)
LOG = os.path.join(tempfile.mkdtemp(), "ends.txt")


def note(what):
    with open(LOG, "a") as f:
        f.write(what + "\n")


@ray.remote(num_cpus=0)
class A:
    def __init__(self):
        atexit.register(note, "atexit")

    def pid(self):
        return os.getpid()

    def term(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        return "survived"

    def leave(self):
        ray.actor.exit_actor()

    def __del__(self):
        note("__del__")


def last_line(error, pid):
    return (
        f"{type(error).__name__} pid named: {f'pid: {pid}' in str(error)} | "
        + str(error).splitlines()[-1]
    )


def wait_for(check):
    for _ in range(75):  # 15 s: Ray takes about one
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return None


a = A.remote()
pid = ray.get(a.pid.remote())
try:
    print("term:", ray.get(a.term.remote()))
except ray.exceptions.RayActorError as e:
    print("term:", last_line(e, pid))
try:
    ray.get(a.pid.remote())
except ray.exceptions.RayActorError as e:
    print("then:", last_line(e, pid))
ends = wait_for(
    lambda: os.path.exists(LOG) and len(open(LOG).read().split()) >= 2 and open(LOG).read().split()
)
print("finalizers:", ends)
rows = wait_for(
    lambda: [
        r
        for r in list_actors(detail=True, filters=[("state", "=", "DEAD")])
        if r["actor_id"] == a._actor_id.hex()
    ]
)
context = rows[0]["death_cause"]["actor_died_error_context"]
print("death_cause:", context["reason"], context["pid"] == pid, context["error_message"])

b = A.options(max_restarts=1).remote()
first = ray.get(b.pid.remote())
try:
    ray.get(b.term.remote())
except ray.exceptions.RayActorError as e:
    print("restartable:", type(e).__name__, str(e).replace(b._actor_id.hex(), "ID"))


def answer():
    try:
        return ray.get(b.pid.remote())
    except ray.exceptions.ActorUnavailableError:  # "The actor is restarting."
        return None


print("restarted in a new process:", wait_for(answer) != first)

for how in ("ray.kill", "exit_actor"):
    c = A.remote()
    pid = ray.get(c.pid.remote())
    if how == "ray.kill":
        ray.kill(c)
    else:
        try:
            ray.get(c.leave.remote())
        except ray.exceptions.RayActorError:
            pass

    def failure(c=c):  # ray.kill returns before the process is gone: poll until a call fails
        try:
            ray.get(c.pid.remote())
        except ray.exceptions.RayActorError as e:
            return e
        return None

    print(f"{how}:", last_line(wait_for(failure), pid))
ray.shutdown()
