"""ray.put of an ObjectRef raises TypeError; ray.get of a tuple or a plain value raises ValueError."""
import ray

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)

ref = ray.put(1)


def attempt(label, fn):
    try:
        out = fn()
        print(label, "ok", out)
    except Exception as e:
        print(label, type(e).__name__)


attempt("put ObjectRef", lambda: ray.put(ref))
attempt("put list containing ref", lambda: ray.get(ray.get(ray.put([ref]))[0]))
attempt("get tuple", lambda: ray.get((ref,)))
attempt("get int", lambda: ray.get(5))
attempt("get list with non-ref", lambda: ray.get([ref, 5]))
attempt("get None", lambda: ray.get(None))
attempt("get list", lambda: ray.get([ref]))

try:
    ray.put(ref)
except TypeError as e:
    print("put message mentions ObjectRef", "ObjectRef" in str(e))
try:
    ray.get((ref,))
except ValueError as e:
    print("get message mentions list", "list" in str(e))

ray.shutdown()
