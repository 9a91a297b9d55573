"""The whole RuntimeContext in the driver, a task, a named actor (sync and async) and a task in
a capturing placement group: id lengths and relations, names, namespace, resources, labels."""
import warnings

import ray
from ray.runtime_context import RuntimeContext
from ray.util.placement_group import placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

ray.init(num_cpus=4, namespace="ctxns", include_dashboard=False)


def describe(where):
    ctx = ray.get_runtime_context()
    out = {
        "where": where,
        "is RuntimeContext": isinstance(ctx, RuntimeContext),
        "job_id len": len(ctx.get_job_id()),
        "node_id len": len(ctx.get_node_id()),
        "worker_id len": len(ctx.get_worker_id()),
        "task_id len": None if ctx.get_task_id() is None else len(ctx.get_task_id()),
        "actor_id len": None if ctx.get_actor_id() is None else len(ctx.get_actor_id()),
        "task_name": ctx.get_task_name(),
        "task_function_name": (ctx.get_task_function_name() or "").rpartition(".")[2] or None,
        "actor_name": ctx.get_actor_name(),
        "namespace": ctx.namespace,
        "pg_id len": None if ctx.get_placement_group_id() is None else len(
            ctx.get_placement_group_id()
        ),
        "capture": ctx.should_capture_child_tasks_in_placement_group,
        "gpu ids": ctx.get_accelerator_ids()["GPU"],
        "node labels have node id": ctx.get_node_labels().get("ray.io/node-id")
        == ctx.get_node_id(),
        "runtime_env": dict(ctx.runtime_env),
    }
    if where != "driver":
        out["assigned"] = ctx.get_assigned_resources()
    return out


def show(info):
    print(info.pop("where"))
    for k, v in info.items():
        print(f"  {k}: {v}")


show(describe("driver"))


@ray.remote(num_cpus=2)
def task():
    return describe("task")


show(ray.get(task.options(name="custom_name").remote()))


@ray.remote
class Actor:
    def info(self):
        d = describe("actor")
        ctx = ray.get_runtime_context()
        d["current_actor is handle"] = type(ctx.current_actor).__name__
        with warnings.catch_warnings():  # Ray's property goes through a deprecated one
            warnings.simplefilter("ignore")
            d["reconstructed"] = ctx.was_current_actor_reconstructed
        return d

    def ids(self):
        ctx = ray.get_runtime_context()
        return ctx.get_actor_id(), ctx.current_actor._actor_id.hex()


@ray.remote
class AsyncActor:
    async def info(self):
        return describe("async actor")


a = Actor.options(name="named_one").remote()
show(ray.get(a.info.remote()))
actor_id, handle_id = ray.get(a.ids.remote())
print("actor id matches its handle:", actor_id == handle_id == a._actor_id.hex())
show(ray.get(AsyncActor.remote().info.remote()))

pg = placement_group([{"CPU": 1}])
ray.get(pg.ready())
strategy = PlacementGroupSchedulingStrategy(pg, placement_group_capture_child_tasks=True)
info = ray.get(task.options(scheduling_strategy=strategy, num_cpus=1).remote())
show(info)
print(
    "task in pg sees its id:",
    ray.get(
        ray.remote(lambda: ray.get_runtime_context().get_placement_group_id())
        .options(scheduling_strategy=strategy, num_cpus=1)
        .remote()
    )
    == pg.id.hex(),
)
ctx = ray.get_runtime_context()
print("driver job id stable:", ctx.get_job_id() == ray.get_runtime_context().get_job_id())
try:
    ctx.current_actor
except RuntimeError as e:
    print("driver current_actor:", e)
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx.was_current_actor_reconstructed
except AssertionError as e:
    print("driver was_current_actor_reconstructed: AssertionError", " ".join(str(e).split()))
ray.shutdown()
