"""A method that raises: ray.get raises RayTaskError(ValueError), which is also a ValueError; the actor
keeps working and keeps its state, including changes made before the exception."""
import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)


class CustomError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class BadPickleError(Exception):
    # Unpickling calls BadPickleError("bad 7"), which fails: the driver cannot rebuild it.
    def __init__(self, code):
        super().__init__("bad %d" % code)


@ray.remote
class Account:
    def __init__(self):
        self.balance = 0

    def deposit(self, x):
        self.balance += x
        return self.balance

    def withdraw(self, x):
        if x > self.balance:
            raise ValueError("insufficient funds: %d > %d" % (x, self.balance))
        self.balance -= x
        return self.balance

    def half_done(self, x):
        self.balance += x
        raise KeyError("after adding %d" % x)

    def custom(self):
        raise CustomError(42)

    def bad_pickle(self):
        raise BadPickleError(7)

    def get(self):
        return self.balance


a = Account.remote()
print("deposit", ray.get(a.deposit.remote(10)))
try:
    ray.get(a.withdraw.remote(50))
except Exception as e:
    print("class", type(e).__name__)
    print("isinstance ValueError", isinstance(e, ValueError))
    print("isinstance RayTaskError", isinstance(e, ray.exceptions.RayTaskError))
    print("isinstance RayActorError", isinstance(e, ray.exceptions.RayActorError))
    print("cause", type(e.cause).__name__, str(e.cause))

try:
    ray.get(a.withdraw.remote(99))
except ValueError as e:
    print("caught as ValueError", str(e.cause))

print("still works", ray.get(a.withdraw.remote(4)))
try:
    ray.get(a.half_done.remote(100))
except KeyError as e:
    print("half_done", type(e).__name__, isinstance(e, KeyError))
print("state kept change before exception", ray.get(a.get.remote()))

try:
    ray.get(a.custom.remote())
except CustomError as e:
    print("custom", type(e).__name__, e.cause.code, str(e.cause))

try:
    ray.get(a.bad_pickle.remote())
except Exception as e:
    print("bad pickle", type(e).__name__, isinstance(e, ray.exceptions.RayError),
          isinstance(e, ray.exceptions.RayTaskError))

# A failed call feeding a task: the task fails with the same cause.
@ray.remote
def use(x):
    return x


try:
    ray.get(use.remote(a.withdraw.remote(10 ** 6)))
except Exception as e:
    print("dependent", type(e).__name__, isinstance(e, ValueError))

refs = [a.deposit.remote(1), a.withdraw.remote(10 ** 6), a.deposit.remote(1)]
out = []
for r in refs:
    try:
        out.append(ray.get(r))
    except ValueError:
        out.append("ValueError")
print("mixed", out)
print("final", ray.get(a.get.remote()))
ray.shutdown()
