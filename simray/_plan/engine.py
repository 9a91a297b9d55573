"""The plan engine: a lean event loop over jobs with known durations, on an autoscaled cluster.

It uses the same pieces as the sim backend's autoscaler (`_model.autoscaler`: Ray's v1 policy,
idle termination) and the placement policies of `packing`, without greenlets: a job is an
arrival, a start and an end. Nodes are launched and terminated by the autoscaler every update
interval (only when something could change: pending demand, launches in flight, idle nodes).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from simray._model import autoscaler as policy
from simray._model.cluster_spec import ClusterSpec
from simray._plan import packing
from simray._plan.workload import MIB, Job

_UNLIMITED_MEM = 1 << 40  # MiB: a node type that does not state memory is not limited by it
_BUILTIN = ("CPU", "GPU", "memory", "object_store_memory")  # every other resource is custom


@dataclass(eq=False)
class PlanNode:
    node: packing.Node
    node_type: str
    launched: float
    joined: float | None = None
    ended: float | None = None
    running: int = 0
    idle_since: float | None = None
    is_head: bool = False


@dataclass
class Result:
    """What a plan run measured; `report.summarize` turns it into the report."""

    jobs: list[Job]
    start: list[float]
    end: list[float]
    nodes: list[PlanNode]
    spec: ClusterSpec
    unserved: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    alloc_curve: list[tuple[float, float, float]] = field(default_factory=list)
    horizon: float = 0.0


def _ray_demand(pod: packing.Pod) -> dict[str, float]:
    d: dict[str, float] = {}
    if pod.cpu:
        d["CPU"] = pod.cpu / packing.MILLI
    if pod.num_gpu:
        d["GPU"] = pod.gpu_total / packing.MILLI
    if pod.mem:
        d["memory"] = float(pod.mem * MIB)
    for k, v in pod.custom:
        d[k] = v / packing.UNIT
    return d


def _node_for(spec: ClusterSpec, node_type: str, index: int) -> packing.Node:
    res = spec.node_types[node_type].resources
    mem = res.get("memory")
    # custom resources, with Ray's accelerator_type:X marker for a type with an accelerator
    ray_res = spec.node_types[node_type].ray_resources()
    custom = {k: v for k, v in ray_res.items() if k not in _BUILTIN}
    return packing.Node(
        f"{index:06d}-{node_type}",
        round(res.get("CPU", 0) * packing.MILLI),
        _UNLIMITED_MEM if mem is None else int(mem // MIB),
        int(res.get("GPU", 0)),
        spec.node_types[node_type].accelerator_type or "",
        custom=packing.custom_units(custom),
    )


def run(
    spec: ClusterSpec,
    jobs: list[Job],
    placement: str = "ray_default",
    seed: int = 0,
    sample_every_s: float | None = None,
) -> Result:
    """Run `jobs` on `spec` to the end (or until nothing can run); the measurements."""
    rng = random.Random(seed)
    delay_rng = random.Random(f"launch-{seed}")
    choose = packing.make_policy(placement, [j.pod for j in jobs])
    sched = policy.ResourceDemandScheduler(
        spec.ray_node_types(), spec.max_workers, spec.head_node_type, spec.upscaling_speed
    )
    interval = spec.update_interval_s
    idle_timeout = 60 * spec.idle_timeout_minutes
    cluster = packing.Cluster([])
    nodes: list[PlanNode] = []
    by_node: dict[int, PlanNode] = {}

    def add_node(node_type: str, now: float, is_head: bool = False) -> PlanNode:
        pn = PlanNode(_node_for(spec, node_type, len(nodes)), node_type, now, is_head=is_head)
        nodes.append(pn)
        return pn

    def join(pn: PlanNode, now: float) -> None:
        pn.joined = now
        pn.idle_since = now
        cluster.nodes.append(pn.node)
        cluster.groups.setdefault(pn.node.state(), []).append(pn.node)
        cluster.gpu_capacity += pn.node.gpus * packing.MILLI
        by_node[id(pn.node)] = pn

    def leave(pn: PlanNode, now: float) -> None:
        pn.ended = now
        if pn.joined is not None:
            cluster.nodes.remove(pn.node)
            cluster.groups[pn.node.state()].remove(pn.node)
            cluster.gpu_capacity -= pn.node.gpus * packing.MILLI

    head = add_node(spec.head_node_type, 0.0, is_head=True)
    join(head, 0.0)

    n = len(jobs)
    start = [math.nan] * n
    end = [math.nan] * n
    events: list[tuple[float, int, int, Any]] = []  # (time, kind order, seq, payload)
    seq = 0
    ARRIVE, FINISH, JOIN, TICK = 1, 0, 2, 3

    def push(t: float, kind: int, payload: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, kind, seq, payload))

    groups_left: dict[str, int] = {}
    held: dict[str, list[Job]] = {}
    group_end: dict[str, float] = {}
    # Arrivals known up front are a sorted stream merged with the heap (in the heap's order:
    # time, kind, sequence), so the heap holds only what is in flight.
    arrivals: list[tuple[float, int, Job]] = []
    for j in jobs:
        groups_left[j.group] = groups_left.get(j.group, 0) + 1
        if j.after is not None:
            held.setdefault(j.after, []).append(j)
        else:
            seq += 1
            arrivals.append((j.submit, seq, j))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    n_arrivals = len(arrivals)
    next_arrival = 0
    submit_at = [j.submit if j.after is None else math.nan for j in jobs]

    queues: dict[packing.Pod, deque[Job]] = {}
    unserved: dict[str, Any] = {}
    infeasible_shapes: dict[packing.Pod, str] = {}
    pending = 0
    arrived_gpu = 0
    alloc_curve: list[tuple[float, float, float]] = []
    samples: list[dict[str, Any]] = []
    # About 2000 samples over the run, at least one per update interval.
    span = max((j.submit for j in jobs), default=0.0) + max((j.duration for j in jobs), default=0.0)
    sample_every = sample_every_s or max(interval, span / 2000)
    next_sample = 0.0

    armed: set[float] = set()

    def arm_tick(now: float) -> None:
        """An autoscaler update at the next tick of the update interval after `now`."""
        at = math.floor(now / interval) * interval + interval
        if at not in armed:
            armed.add(at)
            push(at, TICK, None)

    def arm_tick_at(t: float) -> None:
        """An update at the first tick at or after `t` (an idle timeout passing)."""
        at = math.ceil(t / interval) * interval
        if at <= t:
            at += interval
        if at not in armed:
            armed.add(at)
            push(at, TICK, None)

    def infeasible_reason(pod: packing.Pod) -> str | None:
        r = infeasible_shapes.get(pod)
        if r is None:
            demand = _ray_demand(pod)
            if sched.is_feasible(demand):
                r = ""
            else:
                biggest = {
                    k: max(
                        (
                            t["resources"].get(k, 0)
                            for n_, t in sched.node_types.items()
                            if n_ == spec.head_node_type or t.get("max_workers", 0) > 0
                        ),
                        default=0,
                    )
                    for k in demand
                }
                parts = [
                    f"{k} {v:g} > largest node type's {biggest[k]:g}"
                    for k, v in demand.items()
                    if v > biggest[k]
                ]
                r = (
                    policy.infeasible_message(demand)
                    + " ("
                    + ("; ".join(parts) or "no node type holds all of it at once")
                    + ")"
                )
            infeasible_shapes[pod] = r
        return r or None

    def dispatch(now: float) -> None:
        nonlocal pending
        if not pending:
            return
        if len(queues) == 1:
            shapes = list(queues)  # one shape: nothing to order (the common case)
        else:
            shapes = sorted(queues, key=lambda s: queues[s][0].job_id if queues[s] else 1 << 62)
        for shape in shapes:
            q = queues[shape]
            while q:
                job = q[0]
                choice = choose(cluster, job.pod, rng)
                if choice is None:
                    break
                q.popleft()
                pending -= 1
                cluster.place(choice, job.pod)
                pn = by_node[id(choice.node)]
                pn.running += 1
                pn.idle_since = None
                start[job.job_id] = now
                push(now + job.duration, FINISH, (job, choice))
            if not q:
                del queues[shape]

    def release(job: Job, choice: packing.Choice) -> None:
        node = choice.node
        group = cluster.groups[node.state()]
        group.remove(node)
        node.cpu_free += job.pod.cpu
        node.mem_free += job.pod.mem
        for i, milli in choice.gpus:
            node.gpu_free[i] += milli
        if job.pod.custom:
            node.take_custom(job.pod, +1)
        cluster.gpu_allocated -= job.pod.gpu_total
        cluster.groups.setdefault(node.state(), []).append(node)

    def autoscale(now: float) -> bool:
        """One autoscaler update; True if a later one may change something."""
        live = [p for p in nodes if p.ended is None and not p.is_head]
        counts: dict[str, int] = {}
        for p in live:
            counts[p.node_type] = counts.get(p.node_type, 0) + 1
        worker_types = [t for t in sched.node_types if t != spec.head_node_type]
        full = len(live) >= spec.max_workers or all(
            counts.get(t, 0) >= sched.node_types[t].get("max_workers", 0) for t in worker_types
        )
        if full and all(p.joined is not None and p.idle_since is None for p in live):
            return False  # every worker busy and no room to launch: nothing can change now
        states = [
            policy.WorkerState(
                p,
                p.node_type,
                None if p.joined is None else (now if p.idle_since is None else p.idle_since),
            )
            for p in live
        ]
        for p, _reason in policy.nodes_to_terminate(
            sched.node_types, spec.head_node_type, spec.max_workers, idle_timeout, now, states
        ):
            leave(p, now)
        live = [p for p in nodes if p.ended is None]
        if full:
            workers = [p for p in live if not p.is_head]
            full = len(workers) >= spec.max_workers or all(
                sum(1 for p in workers if p.node_type == t)
                >= sched.node_types[t].get("max_workers", 0)
                for t in worker_types
            )
        cluster_nodes = []
        for p in live:
            if p.joined is None:
                cluster_nodes.append(policy.ClusterNode(p.node_type))
            else:
                nd = p.node
                avail = {"CPU": nd.cpu_free / 1000, "GPU": sum(nd.gpu_free) / 1000}
                if nd.mem < _UNLIMITED_MEM:
                    avail["memory"] = float(nd.mem_free * MIB)
                cluster_nodes.append(policy.ClusterNode(p.node_type, avail, is_head=p.is_head))
        demands: list[dict[str, float]] = []
        for shape, q in queues.items():
            if infeasible_reason(shape):
                continue
            d = _ray_demand(shape)
            demands.extend(d for _ in range(min(len(q), 1000 - len(demands))))
            if len(demands) >= 1000:
                break
        to_launch = {} if full else sched.get_nodes_to_launch(cluster_nodes, {}, demands, [], [])[0]
        for node_type, count in to_launch.items():
            for _ in range(count):
                pn = add_node(node_type, now)
                push(now + spec.node_types[node_type].launch_delay.draw(delay_rng), JOIN, pn)
        # The next update that could change anything by itself is when an idle worker's
        # timeout passes; arrivals, finishes and joins arm their own updates.
        deadlines = [
            p.idle_since + idle_timeout
            for p in nodes
            if p.ended is None
            and p.joined is not None
            and not p.is_head
            and p.idle_since is not None
            and p.idle_since + idle_timeout >= now
        ]
        if deadlines:
            arm_tick_at(min(deadlines))
        return False

    def sample(now: float) -> None:
        """Record the cluster state on the sampling grid up to `now`; the state is constant
        between events, so a long quiet gap gets one sample at each end, not one per step."""
        nonlocal next_sample
        if next_sample > now:
            return
        last = next_sample + math.floor((now - next_sample) / sample_every) * sample_every
        for t in (next_sample, last) if last > next_sample else (next_sample,):
            live = [p for p in nodes if p.ended is None and p.joined is not None]
            cpu_t = sum(p.node.cpu for p in live)
            gpu_t = sum(p.node.gpus for p in live) * packing.MILLI
            by_type: dict[str, int] = {}
            for p in nodes:
                if p.ended is None:
                    by_type[p.node_type] = by_type.get(p.node_type, 0) + 1
            samples.append(
                {
                    "t": t,
                    "CPU": 0.0 if not cpu_t else 1 - sum(p.node.cpu_free for p in live) / cpu_t,
                    "GPU": 0.0 if not gpu_t else cluster.gpu_allocated / gpu_t,
                    "nodes": by_type,
                    "pending": pending,
                }
            )
        next_sample = last + sample_every

    armed.add(0.0)
    push(0.0, TICK, None)  # the autoscaler's first update runs at start
    now = 0.0
    last_end = 0.0
    remaining = len(jobs)
    while (events or next_arrival < n_arrivals) and remaining:
        if next_arrival < n_arrivals:
            a = arrivals[next_arrival]
            e = events[0] if events else None
            if (
                e is None
                or a[0] < e[0]
                or (a[0] == e[0] and (ARRIVE < e[1] or (ARRIVE == e[1] and a[1] < e[2])))
            ):
                t, kind, payload = a[0], ARRIVE, a[2]
                next_arrival += 1
            else:
                t, kind, _, payload = heapq.heappop(events)
        else:
            t, kind, _, payload = heapq.heappop(events)
        if t > now:
            sample(t)
        now = t
        if kind == ARRIVE:
            job = payload
            submit_at[job.job_id] = now
            reason = infeasible_reason(job.pod)
            if reason:
                entry = unserved.setdefault(reason, {"jobs": 0, "reason": reason})
                entry["jobs"] += 1
                remaining -= 1
                groups_left[job.group] -= 1
                if groups_left[job.group] == 0:
                    for dep in held.pop(job.group, []):
                        push(now + dep.submit, ARRIVE, dep)
                continue
            arrived_gpu += job.pod.gpu_total
            q = queues.get(job.pod)
            pending += 1
            if q is None:
                queues[job.pod] = deque((job,))
                dispatch(now)
            else:
                # Jobs of this shape already wait: each queue's head failed at the last
                # dispatch and the cluster has only shrunk since (a release or a join
                # dispatches at once), so asking the policy again would change nothing.
                q.append(job)
            if cluster.gpu_capacity and (
                not alloc_curve or alloc_curve[-1][0] < cluster.gpu_capacity / 1000
            ):
                # GPU demand arrived so far against GPUs allocated, until demand reaches capacity
                alloc_curve.append(
                    (arrived_gpu / 1000, cluster.gpu_allocated / 1000, cluster.gpu_capacity / 1000)
                )
            if pending:
                arm_tick(now)
        elif kind == FINISH:
            job, choice = payload
            end[job.job_id] = now
            remaining -= 1
            last_end = now
            release(job, choice)
            pn = by_node[id(choice.node)]
            pn.running -= 1
            if pn.running == 0:
                pn.idle_since = now
                arm_tick(now)
            groups_left[job.group] -= 1
            if groups_left[job.group] == 0:
                group_end[job.group] = now
                for dep in held.pop(job.group, []):
                    push(now + dep.submit, ARRIVE, dep)
            dispatch(now)
        elif kind == JOIN:
            pn = payload
            if pn.ended is None:
                join(pn, now)
                dispatch(now)
                arm_tick(now)
        else:
            armed.discard(now)
            autoscale(now)
    # Nodes still up at the end are billed to the last job's end (or the last event).
    horizon = max(last_end, now if not jobs else last_end)
    for p in nodes:
        if p.ended is None:
            p.ended = max(horizon, p.launched)
    for job in jobs:
        if math.isnan(submit_at[job.job_id]):
            submit_at[job.job_id] = job.submit
        job.submit = submit_at[job.job_id]
    if pending:
        unserved.setdefault(
            "still queued",
            {
                "jobs": pending,
                "reason": "still queued when the run ended: the cluster's limits "
                "(max_workers) leave them no room",
            },
        )
    return Result(jobs, start, end, nodes, spec, unserved, samples, alloc_curve, horizon)
