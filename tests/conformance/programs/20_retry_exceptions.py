"""Application-level retries: retry_exceptions=True with max_retries=2 retries a failing task until it
succeeds; retry_exceptions=False runs once; retry_exceptions=[KeyError] does not retry a ValueError."""
import os
import tempfile

# Real Ray prints a "(raylet) Task ... failed. There are N retries remaining" notice on stdout for
# every retried attempt; turn it off so that stdout holds only this program's lines.
os.environ["RAY_enable_output_error_log_if_still_retry"] = "0"

import ray  # noqa: E402

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)

workdir = tempfile.mkdtemp()


def bump(name):
    # Attempts run in separate worker processes, so count them in a file.
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


@ray.remote(max_retries=2, retry_exceptions=True)
def flaky(name, fail_times):
    n = bump(name)
    if n <= fail_times:
        raise ValueError("attempt %d failed" % n)
    return "succeeded on attempt %d" % n


@ray.remote(max_retries=2, retry_exceptions=False)
def no_retry(name):
    bump(name)
    raise ValueError("no retry")


@ray.remote(max_retries=3, retry_exceptions=[KeyError])
def only_key_errors(name, exc):
    n = bump(name)
    if exc == "value":
        raise ValueError("value %d" % n)
    if n <= 2:
        raise KeyError("key %d" % n)
    return "key errors retried, attempt %d" % n


@ray.remote
def default_opts(name):
    bump(name)
    raise ValueError("default")


def show(label, ref, name):
    try:
        out = ray.get(ref)
    except Exception as e:
        out = type(e).__name__ + ": " + str(e.cause)
    print(label, "|", out, "| attempts", attempts(name))


show("flaky fails 2", flaky.remote("a", 2), "a")
show("flaky fails 3", flaky.remote("b", 3), "b")
show("retry_exceptions=False", no_retry.remote("c"), "c")
show("list KeyError, raises ValueError", only_key_errors.remote("d", "value"), "d")
show("list KeyError, raises KeyError", only_key_errors.remote("e", "key"), "e")
show("default options", default_opts.remote("f"), "f")
show("options override", flaky.options(max_retries=5).remote("g", 4), "g")
show("options retry off", flaky.options(retry_exceptions=False).remote("h", 1), "h")

ray.shutdown()
