"""ray.init(namespace=...): named actors are created in the job's namespace, get_actor looks there by
default, the runtime context reports it, and an actor is visible from another namespace only when
that namespace is named."""
import ray

ray.init(num_cpus=2, num_gpus=0, namespace="alpha", include_dashboard=False)


@ray.remote
class Box:
    def __init__(self, v):
        self.v = v

    def get(self):
        return self.v

    def namespace(self):
        return ray.get_runtime_context().namespace


print("driver namespace", ray.get_runtime_context().namespace)
a = Box.options(name="box").remote("in alpha")
print("get", ray.get(ray.get_actor("box").get.remote()))
print("explicit ns", ray.get(ray.get_actor("box", namespace="alpha").get.remote()))
print("actor sees namespace", ray.get(a.namespace.remote()))

b = Box.options(name="box", namespace="beta").remote("in beta")
print("beta get", ray.get(ray.get_actor("box", namespace="beta").get.remote()))
print("default still alpha", ray.get(ray.get_actor("box").get.remote()))
print("beta actor sees namespace", ray.get(b.namespace.remote()))

try:
    ray.get_actor("box", namespace="gamma")
    print("gamma found")
except Exception as e:
    print("gamma", type(e).__name__)

@ray.remote
def task_namespace():
    return ray.get_runtime_context().namespace, ray.get(ray.get_actor("box").get.remote())


print("task", ray.get(task_namespace.remote()))

names = sorted((x["namespace"], x["name"]) for x in ray.util.list_named_actors(all_namespaces=True))
print("list_named_actors all", names)
print("list_named_actors current", sorted(ray.util.list_named_actors()))
ray.shutdown()

# A new job in another namespace does not see the old actors (the cluster is new, too).
ray.init(num_cpus=1, num_gpus=0, namespace="beta", include_dashboard=False)
print("second init namespace", ray.get_runtime_context().namespace)
try:
    ray.get_actor("box")
    print("old box found")
except Exception as e:
    print("after restart", type(e).__name__)
ray.shutdown()
