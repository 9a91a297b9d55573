"""max_retries=0 with retry_exceptions=True runs a failing task once; ray.get of a list with several
failed refs raises the first failed ref's error in list order (once they have all failed)."""
import os
import tempfile
import time

import ray

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)

workdir = tempfile.mkdtemp()


@ray.remote(max_retries=0, retry_exceptions=True)
def once(name):
    path = os.path.join(workdir, name)
    with open(path, "a") as f:
        f.write("x")
    raise RuntimeError("failed once")


ref = once.remote("a")
try:
    ray.get(ref)
except Exception as e:
    print("max_retries=0", type(e).__name__, str(e.cause))
with open(os.path.join(workdir, "a")) as f:
    print("attempts", len(f.read()))


class FirstError(Exception):
    pass


class SecondError(Exception):
    pass


@ray.remote
def fail_after(exc_name, seconds):
    time.sleep(seconds)
    if exc_name == "first":
        raise FirstError("first")
    if exc_name == "second":
        raise SecondError("second")
    return exc_name


# When all of them have already failed, the error of the first failed ref in list order is raised.
refs = [fail_after.remote("ok", 0), fail_after.remote("first", 0), fail_after.remote("second", 0)]
ray.wait(refs, num_returns=3)
try:
    ray.get(refs)
except Exception as e:
    print("list get raises", type(e).__name__)

refs = [fail_after.remote("second", 0), fail_after.remote("first", 0)]
ray.wait(refs, num_returns=2)
try:
    ray.get(refs)
except Exception as e:
    print("reversed list raises", type(e).__name__)

# But ray.get does not wait for the rest once some ref has failed: if a later ref in the list fails
# while an earlier one is still running, the later ref's error is raised.
slow_first = [fail_after.remote("first", 2), fail_after.remote("second", 0)]
try:
    ray.get(slow_first)
except Exception as e:
    print("earlier still running raises", type(e).__name__)
ray.wait(slow_first, num_returns=2)
try:
    ray.get(slow_first)
except Exception as e:
    print("once both failed raises", type(e).__name__)

# Getting them one by one shows each error.
names = []
for r in refs:
    try:
        ray.get(r)
    except Exception as e:
        names.append(type(e.cause).__name__)
print("individual", names)

ray.shutdown()
