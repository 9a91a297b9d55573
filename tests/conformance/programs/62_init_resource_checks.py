"""ray.init rejects negative, fractional and mistyped node resources with Ray's exception types
and texts (the resource table in the text varies by host, so only its head is printed); IDs and
`ray.util.placement_group` being both the function and a module."""
import ray
import ray.util.placement_group
from ray.util import placement_group

cases = [
    {"num_cpus": -1},
    {"num_gpus": -1},
    {"resources": {"X": -1}},
    {"num_cpus": 1.5},
    {"num_gpus": 0.5},
    {"resources": {"X": 0.5}},
    {"resources": {"CPU": 1}},
    {"num_cpus": "2"},
    {"object_store_memory": -1},
    {"namespace": 5},
]
for case in cases:
    try:
        ray.init(include_dashboard=False, **case)
        print(case, "accepted")
        ray.shutdown()
    except Exception as e:  # noqa: BLE001
        text = str(e).split(" in {")[0].split(" -> ")[-1].split(" ({")[0][:100]
        print(case, type(e).__name__, text)

ray.init(num_cpus=2, include_dashboard=False)
pg = placement_group([{"CPU": 1}], strategy="PACK")
print("placement_group is callable:", callable(ray.util.placement_group))
print("ready:", ray.get(pg.ready()) == pg)
print("pg id:", type(pg.id).__name__, len(pg.id.hex()), pg.id == ray.PlacementGroupID.from_hex(pg.id.hex()))
for cls in (ray.NodeID, ray.JobID, ray.TaskID, ray.ActorID, ray.WorkerID, ray.PlacementGroupID):
    nil = cls.nil()
    again = cls.from_hex(nil.hex())
    print(
        cls.__name__,
        cls.size(),
        nil.is_nil(),
        again == nil,
        hash(again) == hash(nil),
        cls.from_binary(nil.binary()) == nil,
        repr(nil)[: len(cls.__name__) + 5],
    )
node = ray.NodeID.from_hex(ray.get_runtime_context().get_node_id())
print("node id round trip:", node.hex() == ray.get_runtime_context().get_node_id(), node.is_nil())
print("NodeID != WorkerID of same bytes:", ray.NodeID(b"a" * 28) != ray.WorkerID(b"a" * 28))
print("bad hex gives nil:", ray.NodeID.from_hex("ab").is_nil())
try:
    ray.NodeID(b"12")
except ValueError as e:
    print("ValueError", e)
print("JobID.from_int(1):", ray.JobID.from_int(1), ray.JobID.from_int(1).int())
print("ObjectID is ObjectRef:", ray.ObjectID is ray.ObjectRef)
ray.shutdown()
