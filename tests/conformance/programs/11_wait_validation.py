"""ray.wait argument validation: duplicates, num_returns larger than the list, a bare ref,
num_returns=0, and negative timeouts."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def f(i):
    return i


refs = [f.remote(i) for i in range(3)]
ray.get(refs)


def attempt(label, fn):
    try:
        out = fn()
        print(label, "ok", [len(x) for x in out])
    except Exception as e:
        print(label, type(e).__name__)


attempt("duplicates", lambda: ray.wait([refs[0], refs[0]]))
attempt("num_returns > len", lambda: ray.wait(refs, num_returns=4))
attempt("single ref", lambda: ray.wait(refs[0]))
attempt("tuple of refs", lambda: ray.wait(tuple(refs)))
attempt("num_returns=0", lambda: ray.wait(refs, num_returns=0))
attempt("negative timeout", lambda: ray.wait(refs, timeout=-1))
attempt("non-ref element", lambda: ray.wait([refs[0], 5]))
attempt("num_returns == len", lambda: ray.wait(refs, num_returns=3))

try:
    ray.wait([refs[0], refs[0]])
except ValueError as e:
    print("duplicate message mentions unique", "unique" in str(e))
try:
    ray.wait(refs, num_returns=4)
except ValueError as e:
    print("num_returns message mentions greater than", "greater than" in str(e))
try:
    ray.wait(refs, timeout=-1)
except ValueError as e:
    print("timeout message mentions nonnegative", "nonnegative" in str(e))

ray.shutdown()
