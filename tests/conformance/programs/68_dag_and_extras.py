"""ray.dag over tasks and actors (.bind, InputNode, MultiOutputNode, execute), ray.cloudpickle,
ray.experimental.tqdm_ray from inside a task, __ray_ready__, and rebuilding a ref's id."""
import ray
from ray.dag import InputNode, MultiOutputNode
from ray.experimental.tqdm_ray import tqdm

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
def add(a, b):
    return a + b


@ray.remote
def mul(a, b):
    return a * b


@ray.remote
class Acc:
    def __init__(self, start):
        self.total = start

    def add(self, x):
        self.total += x
        return self.total


with InputNode() as inp:
    dag = mul.bind(add.bind(inp, 1), 10)
print("function dag:", ray.get(dag.execute(2)), ray.get(dag.execute(5)))

with InputNode() as inp:
    two = MultiOutputNode([add.bind(inp[0], inp[1]), mul.bind(inp[0], inp[1])])
print("multi output:", ray.get(two.execute(3, 4)))

with InputNode() as inp:
    kw = add.bind(inp.x, inp.y)
print("keyword inputs:", ray.get(kw.execute(x=1, y=2)))

acc = Acc.bind(100)
with InputNode() as inp:
    actor_dag = acc.add.bind(inp)
print("actor dag:", ray.get(actor_dag.execute(1)), ray.get(actor_dag.execute(2)))

handle = Acc.remote(0)
with InputNode() as inp:
    handle_dag = handle.add.bind(add.bind(inp, inp))
print("handle dag:", ray.get(handle_dag.execute(3)), ray.get(handle_dag.execute(4)))

print("cloudpickle round trip:", ray.cloudpickle.loads(ray.cloudpickle.dumps(lambda x: x + 1))(1))


@ray.remote
def with_bar(n):
    total = 0
    for i in tqdm(range(n), desc="work"):
        total += i
    return total


print("tqdm_ray in a task:", ray.get(with_bar.remote(5)))
print("__ray_ready__:", ray.get(handle.__ray_ready__.remote()))
ref = ray.put("kept")
print("ObjectRef from binary equals:", ray.ObjectRef(ref.binary()) == ref, ray.ObjectRef(ref.binary()).hex() == ref.hex())
ray.shutdown()
