"""Put ids on sim as Ray 2.60 makes them: the putting attempt's TaskID plus 10^8 + n, n counting
that attempt's puts above its returns (conformance 193 checks the indexes against real Ray)."""

import simray
from simray import _ids


def index(ref):
    return int.from_bytes(ref.binary()[-4:], "little") - _ids.PUT_INDEX_BASE


@simray.remote
def puts(n):
    refs = [simray.put(i) for i in range(n)]
    return [index(r) for r in refs], [r.binary()[:24] for r in refs], refs


def test_each_task_counts_its_own_puts_and_ids_stay_unique():
    simray.init(num_cpus=4)
    try:
        # More putting tasks than the counts keep before dropping ended ones (1024).
        results = simray.get([puts.remote(1 + i % 3) for i in range(3000)])
        ids = set()
        for i, (indexes, tasks, refs) in enumerate(results):
            assert indexes == list(range(2, 2 + 1 + i % 3))
            assert len(set(tasks)) == 1  # all of one attempt's TaskID
            ids.update(r.binary() for r in refs)
            assert simray.get(refs) == list(range(1 + i % 3))
        assert len(ids) == sum(1 + i % 3 for i in range(3000))
        assert [index(simray.put(0)) for _ in range(3)] == [1, 2, 3]  # the driver's
    finally:
        simray.shutdown()


def test_counts_drop_only_units_that_ended():
    counts = _ids.PutCounts()

    class Unit:
        def __init__(self, state):
            self.state = state

    running = Unit("running")
    assert counts.next(7, running, 1) == 2
    for key in range(100, 100 + counts.sweep_at - 1):  # 1024 counts with the first
        counts.next(key, Unit("finished"), 0)
    assert counts.next(8, Unit("running"), 0) == 1  # a sweep ran: the ended ones went
    assert set(counts.units) == {7, 8}
    assert counts.next(7, running, 1) == 3  # the running one kept its count
