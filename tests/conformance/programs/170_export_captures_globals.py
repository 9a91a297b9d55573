"""A remote function or actor class is exported at its first .remote() of the job: the __main__
globals it uses are captured then, as cloudpickle captures them, and later changes to them are not
seen (a later first .remote() of another function captures the values of its moment)."""
import ray

ray.init(num_cpus=1, num_gpus=0, include_dashboard=False)
x = 3


@ray.remote
def f():
    return x


r = f.remote()
x = 4
print("f, exported when x was 3:", ray.get(r))
print("f again, after x = 4:", ray.get(f.remote()))


@ray.remote
def g():
    return x


print("g, exported when x was 4:", ray.get(g.remote()))
x = 5


@ray.remote
class C:
    def get(self):
        return x


c = C.remote()
x = 6
print("C, exported when x was 5:", ray.get(c.get.remote()))
print("a second C, after x = 6:", ray.get(C.remote().get.remote()))
ray.shutdown()
