"""ray._common.test_utils.SignalActor: four tasks block in signal.wait until send(); cur_num_waiters
counts them; after send() all four finish; later waits return at once."""
import time

import ray
from ray._common.test_utils import SignalActor

ray.init(num_cpus=4, num_gpus=0, include_dashboard=False)


@ray.remote
def waiter(signal, i):
    ray.get(signal.wait.remote())
    return i * 10


signal = SignalActor.remote()
print("initial waiters", ray.get(signal.cur_num_waiters.remote()))
refs = [waiter.remote(signal, i) for i in range(4)]

n = 0
for _ in range(600):  # at most ~60 s
    n = ray.get(signal.cur_num_waiters.remote())
    if n == 4:
        break
    time.sleep(0.1)
print("waiters", n)
ready, not_ready = ray.wait(refs, num_returns=4, timeout=1)
print("finished before send", len(ready))

ray.get(signal.send.remote())
print("results", ray.get(refs, timeout=60))
print("waiters after send", ray.get(signal.cur_num_waiters.remote()))

# The event stays set: a later wait returns immediately.
print("later wait", ray.get(waiter.remote(signal, 9), timeout=60))

# send(clear=True) releases current waiters but leaves the signal unset for later ones.
s2 = SignalActor.remote()
ref = s2.wait.remote()
for _ in range(600):
    if ray.get(s2.cur_num_waiters.remote()) == 1:
        break
    time.sleep(0.1)
ray.get(s2.send.remote(clear=True))
print("released by send(clear=True)", ray.get(ref, timeout=60))
late = s2.wait.remote()
ready, _ = ray.wait([late], timeout=1)
print("wait after clear ready", len(ready))
ray.get(s2.send.remote())
print("late released", ray.get(late, timeout=60))

# wait(should_wait=False) returns at once without counting.
s3 = SignalActor.remote()
print("should_wait=False", ray.get(s3.wait.remote(should_wait=False), timeout=60))
print("s3 waiters", ray.get(s3.cur_num_waiters.remote()))

ray.shutdown()
