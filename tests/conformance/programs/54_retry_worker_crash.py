"""System-failure retries: a task whose worker process dies (os._exit) in its first two attempts
succeeds on attempt 3 with max_retries=3; with max_retries=0 ray.get raises WorkerCrashedError."""
import sys

# Real Ray prints a "(raylet) A worker died or was killed ..." notice (with ids and pids) on the
# driver's sys.stdout whenever a worker process dies, and no setting turns it off. So this program
# writes its own lines to the original stdout and points sys.stdout at stderr.
OUT = sys.stdout
sys.stdout = sys.stderr


def emit(*args):
    print(*args, file=OUT, flush=True)


import os
import tempfile

# Real Ray prints a notice on stdout for each retried attempt; keep stdout clean.
os.environ["RAY_enable_output_error_log_if_still_retry"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)

workdir = tempfile.mkdtemp()


def bump(name):
    path = os.path.join(workdir, name)
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        return len(f.read())


def attempts(name):
    path = os.path.join(workdir, name)
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read())


@ray.remote(max_retries=3)
def crashy(name, crash_times):
    n = bump(name)
    if n <= crash_times:
        os._exit(1)
    return "succeeded on attempt %d" % n


def show(label, ref, name):
    try:
        out = ray.get(ref, timeout=120)
    except Exception as e:
        out = "%s RayTaskError=%s" % (type(e).__name__, isinstance(e, ray.exceptions.RayTaskError))
    emit(label, "|", out, "| attempts", attempts(name))


show("crash twice, max_retries=3", crashy.remote("a", 2), "a")
show("crash twice, max_retries=0", crashy.options(max_retries=0).remote("b", 2), "b")
show("crash always, max_retries=3", crashy.remote("c", 100), "c")
show("crash once, max_retries=1", crashy.options(max_retries=1).remote("d", 1), "d")


# The default max_retries for tasks is 3.
@ray.remote
def crashy_default(name, crash_times):
    n = bump(name)
    if n <= crash_times:
        os._exit(1)
    return "succeeded on attempt %d" % n


show("default, crash 3 times", crashy_default.remote("e", 3), "e")
emit("cluster still works", ray.get(crashy.remote("f", 0)))

ray.shutdown()
