"""An actor whose __init__ raises is dead: every method call raises ActorDiedError (a RayActorError)
and the error message contains the original exception text."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
class Broken:
    def __init__(self, x):
        if x < 0:
            raise ValueError("negative start value rejected")
        self.x = x

    def get(self):
        return self.x


ok = Broken.remote(5)
print("good actor", ray.get(ok.get.remote()))

bad = Broken.remote(-1)
for label in ("first call", "second call", "third call"):
    try:
        print(label, ray.get(bad.get.remote(), timeout=60))
    except Exception as e:
        print(label, type(e).__name__,
              isinstance(e, ray.exceptions.RayActorError),
              isinstance(e, ValueError),
              "negative start value rejected" in str(e),
              "ValueError" in str(e))

refs = [bad.get.remote() for _ in range(3)]
names = []
for r in refs:
    try:
        ray.get(r, timeout=60)
        names.append("value")
    except Exception as e:
        names.append(type(e).__name__)
print("batch", names)

try:
    ray.get(bad.get.remote(), timeout=60)
except ray.exceptions.RayActorError as e:
    print("actor_init_failed", e.actor_init_failed)

# A wrong number of constructor arguments is rejected on the driver, at .remote().
try:
    Broken.remote()
    print("missing arg accepted")
except Exception as e:
    print("missing arg", type(e).__name__)

print("good actor still fine", ray.get(ok.get.remote()))
ray.shutdown()
