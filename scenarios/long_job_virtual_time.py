"""A week of hourly batch jobs in virtual time: 168 hours of work replayed in a blink.

Every hour a batch of 2 tasks arrives on a 2-CPU node (5 at midnight: the daily
retraining), each task 30 to 50 minutes long (drawn from a seeded generator). The driver waits
for each batch with `ray.wait` and a timeout and counts late batches: the midnight one, and the
ones its backlog delays. Real Ray would need the whole week; on sim the clock jumps from event
to event.

    simray replay scenarios/long_job_virtual_time.py
"""
# simray-replay: seed=0

import random
import time

import ray

ray.init(num_cpus=2)
rng = random.Random(2026)
start = time.time()


@ray.remote
def work(minutes):
    time.sleep(60 * minutes)
    return minutes


late = 0
total_minutes = 0
for hour in range(7 * 24):
    due = start + 3600 * (hour + 1)
    size = 5 if hour % 24 == 0 else 2
    refs = [work.remote(rng.uniform(30, 50)) for _ in range(size)]
    ready, pending = ray.wait(refs, num_returns=len(refs), timeout=max(0, due - time.time()))
    total_minutes += sum(ray.get(ready + pending))  # a late batch still finishes
    if pending:
        late += 1
    if time.time() < due:
        time.sleep(due - time.time())  # the next batch arrives on the hour
elapsed = time.time() - start
print(f"{7 * 24} hourly batches, {late} late")
print(f"{total_minutes / 60:.1f} CPU-hours of work in {elapsed / 86400:.2f} virtual days")
ray.shutdown()
