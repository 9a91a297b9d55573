"""sys.exit() and exit() inside tasks and actor methods: the worker process exits, as in Ray. A
task's worker crash is a system failure (WorkerCrashedError, retried while max_retries lasts,
whatever the exit code); an actor's call and every later call raise ActorDiedError."""

import sys

# Real Ray prints a "(raylet) A worker died or was killed ..." notice (with ids and pids) on the
# driver's sys.stdout whenever a worker process dies, and no setting turns it off. So this program
# writes its own lines to the original stdout and points sys.stdout at stderr.
OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import os  # noqa: E402
import tempfile  # noqa: E402

os.environ["RAY_enable_output_error_log_if_still_retry"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)
workdir = tempfile.mkdtemp()


@ray.remote(max_retries=0)
def task_exit(code):
    sys.exit(code)


@ray.remote(max_retries=0)
def task_builtin_exit():
    exit()


@ray.remote(max_retries=2)
def exit_once(code):
    path = os.path.join(workdir, "attempts%s" % code)
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        n = len(f.read())
    if n == 1:
        sys.exit(code)
    return "succeeded on attempt %d" % n


def show(label, ref):
    try:
        emit(label, "->", repr(ray.get(ref, timeout=120)))
    except BaseException as e:
        emit(
            label,
            "->",
            type(e).__name__,
            "SystemExit" if isinstance(e, SystemExit) else "",
            isinstance(e, ray.exceptions.RayTaskError),
        )


show("task sys.exit(0)", task_exit.remote(0))
show("task sys.exit(1)", task_exit.remote(1))
show("task exit()", task_builtin_exit.remote())
show("retried sys.exit(0)", exit_once.remote(0))
show("retried sys.exit(3)", exit_once.remote(3))


@ray.remote
class A:
    def quit(self, code):
        sys.exit(code)

    def ping(self):
        return "pong"


def show_exiting_call(label, ref):
    # The call whose sys.exit ends the actor: Ray raises ActorDiedError, or under load
    # ActorUnavailableError (the caller sees the connection drop before the actor is known
    # dead); both are RayActorErrors, which is what this line shows.
    try:
        emit(label, "->", repr(ray.get(ref, timeout=120)))
    except ray.exceptions.RayActorError as e:
        emit(
            label,
            "-> a RayActorError:",
            type(e).__name__ in ("ActorDiedError", "ActorUnavailableError"),
        )


for code in (0, 1):
    a = A.remote()
    emit("ping", ray.get(a.ping.remote()))
    show_exiting_call("actor sys.exit(%d)" % code, a.quit.remote(code))
    show("later call", a.ping.remote())
emit("driver goes on")
ray.shutdown()
