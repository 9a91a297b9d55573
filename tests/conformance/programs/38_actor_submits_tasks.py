"""An actor method can submit tasks (and create another actor) and wait for them with ray.get /
ray.wait; it can also return the refs to the driver."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


@ray.remote
def square(x):
    return x * x


@ray.remote
class Helper:
    def double(self, x):
        return 2 * x


@ray.remote
class Coordinator:
    def __init__(self):
        self.total = 0

    def run(self, n):
        values = ray.get([square.remote(i) for i in range(n)])
        self.total += sum(values)
        return values

    def run_wait(self, n):
        refs = [square.remote(i) for i in range(n)]
        ready, not_ready = ray.wait(refs, num_returns=n, timeout=30)
        return len(ready), len(not_ready), sorted(ray.get(ready))

    def refs_out(self, n):
        # A list of refs is returned as-is (refs nested in a list are not resolved).
        return [square.remote(i) for i in range(n)]

    def chain(self, x):
        # Pass one task's ref to another task without getting it first.
        return ray.get(square.remote(square.remote(x)))

    def via_helper(self, x):
        h = Helper.remote()
        return ray.get(h.double.remote(x))

    def total_so_far(self):
        return self.total


c = Coordinator.remote()
print("run", ray.get(c.run.remote(5)))
print("run again", ray.get(c.run.remote(3)))
print("total", ray.get(c.total_so_far.remote()))
print("run_wait", ray.get(c.run_wait.remote(4)))
refs = ray.get(c.refs_out.remote(4))
print("refs_out types", [type(r).__name__ for r in refs])
print("refs_out values", ray.get(refs))
print("chain", ray.get(c.chain.remote(3)))
print("via helper", ray.get(c.via_helper.remote(21)))

ray.shutdown()
