"""Invariants over drawn clusters, task graphs and seeds (hypothesis).

- resources are conserved: on every node, what is in use equals what the running tasks hold
  (minus the CPU a blocked task gave back), and nothing but CPU ever goes below zero;
- every submitted task ends in its value or a Ray exception, and the values are right;
- the same seed gives the same trace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simray
from simray import _session
from simray._model.resources import UNIT
from simray.cluster import Cluster
from simray.exceptions import RayTaskError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Spec:
    cpus: float
    gpus: float
    duration: float
    deps: list[int]
    fails_first: int  # how many attempts raise before one succeeds
    retries: int
    nested: int  # children it submits and gets while running
    by_ref_in_list: bool = False
    children: list[int] = field(default_factory=list)


nodes_st = st.lists(
    st.tuples(st.sampled_from([1, 2, 4]), st.sampled_from([0, 0, 1, 2])), min_size=1, max_size=5
)


@st.composite
def workloads(draw):
    n = draw(st.integers(1, 25))
    specs = []
    for i in range(n):
        by_ref_in_list = draw(st.booleans())
        specs.append(
            Spec(
                cpus=draw(st.sampled_from([0, 0.5, 1, 1, 2])),
                gpus=draw(st.sampled_from([0, 0, 0, 0.5, 1])),
                duration=draw(st.sampled_from([0, 0.25, 1, 2.5])),
                deps=sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [],
                fails_first=draw(st.sampled_from([0, 0, 0, 1, 3])),
                # Infinite retries of a task whose in-list argument failed never end, in Ray too.
                retries=draw(st.sampled_from([0, 1, 2] if by_ref_in_list else [0, 1, 2, -1])),
                nested=draw(st.sampled_from([0, 0, 1, 3])),
                by_ref_in_list=by_ref_in_list,
            )
        )
    return specs


def expected_outcomes(specs):
    """Each task's value, or the set of errors it may end with.

    With several failed arguments, the one whose failure arrives first wins (as in Ray), which
    depends on timing; the model accepts any of them.
    """
    out: list = []
    for i, s in enumerate(specs):
        failed = set()
        for d in s.deps:
            if isinstance(out[d], set):
                failed |= out[d]
        if failed:
            out.append(failed)
        elif s.fails_first and (s.retries != -1 and s.fails_first > s.retries):
            out.append({f"ValueError task {i}"})
        else:
            out.append(i + sum(out[d] for d in s.deps) + s.nested)
    return out


def check_conservation(backend):
    running = list(backend.running.values())
    for node in backend.scheduler.nodes:
        res = node.resources
        for key, total in res.total.items():
            held = 0
            for t in running:
                if t.node is node and key in t.demand:
                    if not (key == "CPU" and t.cpu_released):
                        held += t.demand[key]
            assert total - res.available[key] == held, (key, total, res.available[key], held)
            if key != "CPU":
                assert res.available[key] >= 0, (key, res.available[key])
        assert all(0 <= f <= UNIT for f in res.gpu_free)


def run_workload(nodes, specs, seed, trace=False):
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": nodes[0][0], "num_gpus": nodes[0][1]}
    )
    for cpus, gpus in nodes[1:]:
        cluster.add_node(num_cpus=cpus, num_gpus=gpus)
    simray.init(address=cluster.address, seed=seed, trace=trace or None)
    try:
        return _run(nodes, specs, trace)
    finally:
        simray.shutdown()
        cluster.shutdown()


def _feasible(nodes, cpus, gpus):
    """Shrink a demand until some node can hold it, so every task must end."""
    if any(c >= cpus and g >= gpus for c, g in nodes):
        return cpus, gpus
    return min(cpus, max(c for c, _ in nodes)), 0


def _run(nodes, specs, trace):
    backend = _session.active()
    backend.kernel.after_event = lambda: check_conservation(backend)
    attempts: dict[int, int] = {}

    @simray.remote
    def child(k):
        time.sleep(0.5)
        return 1

    @simray.remote
    def body(i, duration, fails_first, nested, *deps):
        attempts[i] = attempts.get(i, 0) + 1
        time.sleep(duration)
        # A ref passed inside a list arrives unresolved: a failed one raises here, every attempt.
        values = [simray.get(d[0]) if isinstance(d, list) else d for d in deps]
        if attempts[i] <= fails_first:
            raise ValueError(f"task {i}")
        got = sum(simray.get([child.remote(k) for k in range(nested)])) if nested else 0
        return i + sum(values) + got

    refs = []
    for i, s in enumerate(specs):
        # A GPU task waiting on other tasks may starve them of GPUs (a deadlock, as in Ray).
        waits = s.nested or (s.by_ref_in_list and s.deps)
        cpus, gpus = _feasible(nodes, s.cpus, 0 if waits else s.gpus)
        deps = [[refs[d]] if s.by_ref_in_list else refs[d] for d in s.deps]
        opts = body.options(
            num_cpus=cpus, num_gpus=gpus, max_retries=s.retries, retry_exceptions=True
        )
        refs.append(opts.remote(i, s.duration, s.fails_first, s.nested, *deps))
    outcomes = []
    for ref in refs:
        try:
            outcomes.append(simray.get(ref))
        except RayTaskError as e:
            outcomes.append(f"{type(e.cause).__name__} {e.cause}")
    return outcomes, simray.sim.trace_lines() if trace else None


@SETTINGS
@given(nodes=nodes_st, specs=workloads(), seed=st.integers(0, 2**16))
def test_every_task_ends_with_its_value_or_error_and_resources_are_conserved(nodes, specs, seed):
    outcomes, _ = run_workload(nodes, specs, seed)
    for i, (got, want) in enumerate(zip(outcomes, expected_outcomes(specs), strict=True)):
        assert got in want if isinstance(want, set) else got == want, (i, got, want)


@settings(max_examples=15, deadline=None)
@given(nodes=nodes_st, specs=workloads(), seed=st.integers(0, 2**16))
def test_same_seed_same_trace(nodes, specs, seed):
    _, first = run_workload(nodes, specs, seed, trace=True)
    _, second = run_workload(nodes, specs, seed, trace=True)
    assert first == second
    assert first


# -- placement groups, actors and faults --------------------------------------------------------

bundle_st = st.fixed_dictionaries(
    {"CPU": st.sampled_from([0, 0.5, 1, 2, 3])}, optional={"GPU": st.sampled_from([0.5, 1, 2])}
).filter(lambda b: any(b.values()))


@SETTINGS
@given(
    nodes=nodes_st,
    groups=st.lists(
        st.tuples(
            st.lists(bundle_st, min_size=1, max_size=4),
            st.sampled_from(["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"]),
        ),
        min_size=1,
        max_size=5,
    ),
    remove_first=st.booleans(),
)
def test_placement_groups_respect_nodes_and_strategies(nodes, groups, remove_first):
    from simray.util.placement_group import (
        placement_group,
        placement_group_table,
        remove_placement_group,
    )

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": nodes[0][0], "num_gpus": nodes[0][1]}
    )
    for cpus, gpus in nodes[1:]:
        cluster.add_node(num_cpus=cpus, num_gpus=gpus)
    simray.init(address=cluster.address)
    try:
        backend = _session.active()
        handles = [placement_group(bundles, strategy=strategy) for bundles, strategy in groups]
        time.sleep(1)
        if remove_first:
            remove_placement_group(handles[0])
            time.sleep(1)
        for handle, (bundles, strategy) in zip(handles, groups, strict=True):
            table = placement_group_table(handle)
            if table["state"] != "CREATED":
                continue
            placed = [table["bundles_to_node_id"][i] for i in range(len(bundles))]
            if strategy == "STRICT_PACK":
                assert len(set(placed)) == 1
            if strategy == "STRICT_SPREAD":
                assert len(set(placed)) == len(bundles)
        for node in backend.scheduler.nodes:
            res = node.resources
            assert all(v >= 0 for v in res.available.values()), res.available
            assert all(0 <= f <= c for f, c in zip(res.gpu_free, res.gpu_capacity, strict=True))
            reserved = {}
            for pg in backend.pgs.all:
                for b in pg.bundles:
                    if b.node is node:
                        for k, v in pg.demands[b.index].items():
                            reserved[k] = reserved.get(k, 0) + v
            for k, v in reserved.items():
                assert res.total[k] - res.available[k] == v
    finally:
        simray.shutdown()
        cluster.shutdown()


@SETTINGS
@given(
    concurrency=st.sampled_from([1, 1, 2, 3]),
    calls=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from([0, 0.5, 1])), min_size=1, max_size=12
    ),
    seed=st.integers(0, 1000),
)
def test_sync_actor_calls_never_overlap_and_threaded_ones_respect_max_concurrency(
    concurrency, calls, seed
):
    simray.init(num_cpus=3, seed=seed)
    try:

        @simray.remote
        class Recorder:
            def __init__(self) -> None:
                self.active = 0
                self.peak = 0
                self.order: list[int] = []

            def work(self, i: int, seconds: float) -> int:
                self.active += 1
                self.peak = max(self.peak, self.active)
                self.order.append(i)
                time.sleep(seconds)
                self.active -= 1
                return i

            def stats(self) -> tuple[int, list[int]]:
                return self.peak, self.order

        actor = Recorder.options(max_concurrency=concurrency).remote()

        @simray.remote
        def caller(a, items):  # type: ignore[no-untyped-def]
            return simray.get([a.work.remote(i, s) for i, s in items])

        by_caller: dict[int, list] = {}
        for n, (who, seconds) in enumerate(calls):
            by_caller.setdefault(who, []).append((n, seconds))
        results = simray.get([caller.remote(actor, items) for items in by_caller.values()])
        peak, order = simray.get(actor.stats.remote())
        assert peak <= concurrency
        if concurrency == 1:
            # Each caller's calls ran in its submission order.
            for items in by_caller.values():
                mine = [i for i in order if i in {n for n, _ in items}]
                assert mine == [n for n, _ in items]
        assert [sorted(r) for r in results] == [
            sorted(n for n, _ in items) for items in by_caller.values()
        ]
    finally:
        simray.shutdown()


@SETTINGS
@given(
    specs=workloads(),
    faults=st.lists(
        st.tuples(st.sampled_from(["kill_node", "crash"]), st.sampled_from([0.1, 0.5, 1, 2, 3])),
        max_size=4,
    ),
    seed=st.integers(0, 1000),
)
def test_with_faults_every_task_ends_in_a_value_or_a_ray_exception(specs, faults, seed):
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    workers = [cluster.add_node(num_cpus=2) for _ in range(2)]
    simray.init(address=cluster.address, seed=seed)
    try:

        @simray.remote
        def body(i, duration, *deps):  # type: ignore[no-untyped-def]
            time.sleep(duration)
            return i + sum(deps)

        refs = []
        for i, s in enumerate(specs):
            deps = [refs[d] for d in s.deps]
            refs.append(
                body.options(num_cpus=min(s.cpus, 2), max_retries=s.retries).remote(
                    i, s.duration, *deps
                )
            )
        for n, (fault, at) in enumerate(faults):
            if fault == "kill_node":
                simray.sim.kill_node(workers[n % 2].node_id, at=at)
            else:
                simray.sim.crash_worker(refs[n % len(refs)], at=at) if refs[
                    n % len(refs)
                ].task else None
        outcomes = [_outcome(ref) for ref in refs]
        for i, outcome in enumerate(outcomes):
            # A deadlock would mean a task never ended (real Ray would hang there).
            assert not isinstance(outcome, simray.exceptions.DeadlockError), str(outcome)
            deps = [outcomes[d] for d in specs[i].deps]
            if not isinstance(outcome, simray.exceptions.RayError) and all(
                isinstance(d, int) for d in deps
            ):
                assert outcome == i + sum(deps)
    finally:
        simray.shutdown()
        cluster.shutdown()


def _outcome(ref):  # type: ignore[no-untyped-def]
    """The value of `ref`, or the Ray exception that getting it raises."""
    from simray.exceptions import RayError

    try:
        return simray.get(ref)
    except RayError as e:
        return e
