"""Real threads see real time: a ProcessPoolExecutor and a ThreadPoolExecutor work in the driver
after init, and threads started inside a task (an executor, a thread that sleeps) complete."""
import concurrent.futures
import threading
import time

import ray

ray.init(num_cpus=2, num_gpus=0, include_dashboard=False)

with concurrent.futures.ProcessPoolExecutor(2) as pool:
    print("process pool", list(pool.map(abs, [-1, -2])))
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    print("thread pool", list(pool.map(abs, [-3])))


@ray.remote
def with_threads():
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        out = list(pool.map(abs, [-4, -5]))
    done = threading.Event()
    thread = threading.Thread(target=lambda: (time.sleep(0.05), done.set()))
    thread.start()
    thread.join()
    return out, done.is_set()


print("threads in a task", ray.get(with_threads.remote()))
ray.shutdown()
