"""Ray's v1 autoscaler on the sim backend, in virtual time.

Every update interval (5 s by default) it does what `StandardAutoscaler.update` does: terminate
workers idle past the timeout (or over the limits), gather the demand (queued tasks and actors,
pending placement groups, `request_resources` bundles), ask the policy in `_model.autoscaler`
what to launch, report infeasible demand with Ray's message, and launch nodes that join the
cluster after their launch delay. Launches, joins and terminations are trace events and nodes
show in `ray.nodes()`. The ticks stop when nothing can change any more (so a program blocked
on infeasible work still ends in simray's deadlock report) and resume when the kernel would
otherwise stall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from simray._model import autoscaler as policy
from simray._model.cluster_spec import ClusterSpec
from simray._model.infeasible import InfeasibleNotices
from simray._model.resources import to_floats


@dataclass(eq=False)
class Worker:
    """A worker node the autoscaler launched: pending until it joins, then backed by a node."""

    launch_id: int
    node_type: str
    launched_at: float
    joins_at: float
    node: Any = None
    idle_since: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None


class SimAutoscaler:
    """One session's autoscaler, created by `install` with a cluster spec."""

    def __init__(self, backend: Any, spec: ClusterSpec):
        self.backend = backend
        self.kernel = backend.kernel
        self.spec = spec
        self.policy = policy.ResourceDemandScheduler(
            spec.ray_node_types(), spec.max_workers, spec.head_node_type, spec.upscaling_speed
        )
        self.rng = random.Random(f"simray-autoscaler-{backend.seed}")
        self.head = backend.scheduler.all_nodes[0]
        self.workers: list[Worker] = []
        self.requests: list[dict[str, float]] = []
        self.launches = 0
        self.updates = 0
        self.events: list[tuple[float, str, str, str]] = []  # (t, event, node type, detail)
        self._armed = False
        self._fallback_stall = self.kernel.on_stall
        self.kernel.on_stall = self._on_stall
        # The autoscaler reports infeasible demand itself, judging by node types (a demand no
        # node fits now is not infeasible while a node type could serve it); the session's
        # monitor only wakes it.
        self.notices = InfeasibleNotices(spec.update_interval_s)
        backend.scheduler.on_infeasible = self._wake
        backend.pgs.on_infeasible = self._wake
        self._arm(self.kernel.now)

    # -- public ---------------------------------------------------------------------------------
    def request_resources(self, bundles: list[dict[str, float]]) -> None:
        """Replace the standing `request_resources` bundles; takes effect at the next update."""
        self.requests = [dict(b) for b in bundles]
        if not self._armed:
            self._arm(self.kernel.now)

    def node_type_of(self, node: Any) -> str:
        if node is self.head:
            return self.spec.head_node_type
        for w in self.workers:
            if w.node is node:
                return w.node_type
        return "unmanaged"

    def live_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.ended_at is None]

    # -- the update loop ---------------------------------------------------------------------------
    def _arm(self, when: float) -> None:
        self._armed = True
        self.kernel.call_at(when, self._tick)

    def _wake(self) -> None:
        """Demand no node fits is queued: updates go on (they stop when nothing can change)."""
        if not self._armed:
            self._arm(self.kernel.now + self.spec.update_interval_s)

    def _on_stall(self) -> BaseException | None:
        """The kernel has nothing left: an update may still launch or terminate nodes."""
        if not self._armed:
            self._update(self.kernel.now)
            if self.kernel.has_events():
                self._arm(self.kernel.now + self.spec.update_interval_s)
                return None
        return self._fallback_stall()

    def _tick(self, _: Any = None) -> None:
        self._armed = False
        now = self.kernel.now
        future_work = self._update(now)
        if future_work or self.kernel.has_events():
            self._arm(now + self.spec.update_interval_s)

    def _update(self, now: float) -> bool:
        """One autoscaler update; True if a later update may still change something."""
        self.updates += 1
        backend = self.backend
        self._observe_idle(now)
        live = self.live_workers()
        pending_pgs = [
            policy.PendingPlacementGroup(pg.strategy, [to_floats(d) for d in pg.demands])
            for pg in backend.pgs.pending
        ]
        states = [
            policy.WorkerState(
                w,
                w.node_type,
                None if w.node is None else (now if w.idle_since is None else w.idle_since),
            )
            for w in live
        ]
        for w, reason in policy.nodes_to_terminate(
            self.policy.node_types,
            self.spec.head_node_type,
            self.spec.max_workers,
            60 * self.spec.idle_timeout_minutes,
            now,
            states,
            self.requests,
            pending_pgs,
        ):
            self._terminate(w, reason, now)
        live = self.live_workers()
        nodes = [
            policy.ClusterNode(
                self.spec.head_node_type,
                to_floats(self.head.resources.available),
                to_floats(self.head.resources.total),
                is_head=True,
            )
        ]
        for w in live:
            if w.node is None:
                nodes.append(policy.ClusterNode(w.node_type))
            else:
                res = w.node.resources
                nodes.append(
                    policy.ClusterNode(w.node_type, to_floats(res.available), to_floats(res.total))
                )
        demands = self._demand_vector()
        to_launch, unfulfilled = self.policy.get_nodes_to_launch(
            nodes, {}, demands, pending_pgs, self.requests
        )
        self._report_infeasible(unfulfilled, now)
        for node_type, count in to_launch.items():
            for _ in range(count):
                self._launch(node_type, now)
        timeout = 60 * self.spec.idle_timeout_minutes
        return bool(to_launch) or any(
            w.node is None or (w.idle_since is not None and w.idle_since + timeout >= now)
            for w in self.live_workers()
        )

    def _observe_idle(self, now: float) -> None:
        """A node is idle when nothing holds its resources (tasks, actors, bundles)."""
        for w in self.live_workers():
            if w.node is None:
                continue
            res = w.node.resources
            if res.available == res.total:
                if w.idle_since is None:
                    w.idle_since = now
            else:
                w.idle_since = None

    def _demand_vector(self) -> list[dict[str, float]]:
        """Queued tasks and actors (not those inside placement groups): Ray's
        `waiting[:1000] + infeasible[:1000]`."""
        from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        cap = policy.MAX_RESOURCE_DEMAND_VECTOR_SIZE
        nodes = self.backend.scheduler.nodes
        waiting: list[dict[str, float]] = []
        infeasible: list[dict[str, float]] = []
        feasible_cache: dict[tuple[tuple[str, int], ...], bool] = {}
        for queue in self.backend.scheduler.queues.values():
            for task in queue:
                if isinstance(task.strategy, PlacementGroupSchedulingStrategy):
                    break  # the whole class runs in a group
                key = tuple(task.demand.items())
                ok = feasible_cache.get(key)
                if ok is None:
                    ok = feasible_cache[key] = any(n.resources.feasible(task.demand) for n in nodes)
                target = waiting if ok else infeasible
                if len(target) < cap:
                    target.append(to_floats(task.demand))
                elif len(waiting) >= cap and len(infeasible) >= cap:
                    break
        return waiting + infeasible

    def _report_infeasible(self, unfulfilled: list[dict[str, float]], now: float) -> None:
        """Ray's `_report_pending_infeasible`: requests no node type can serve, groups aside."""
        infeasible = [
            bundle
            for bundle in unfulfilled
            if not any("_group_" in k or k == "bundle" for k in bundle)
            and not self.policy.is_feasible(bundle)
        ]
        for bundle in self.notices.report(infeasible, now):
            self.backend.recorder.record("autoscaler_infeasible", demand=bundle)

    # -- launching and terminating ---------------------------------------------------------------
    def _launch(self, node_type: str, now: float) -> None:
        nt = self.spec.node_types[node_type]
        self.launches += 1
        delay = nt.launch_delay.draw(self.rng)
        w = Worker(self.launches, node_type, now, now + delay)
        self.workers.append(w)
        self.events.append((now, "launch", node_type, ""))
        self.backend.recorder.record(
            "node_launch", launch=w.launch_id, node_type=node_type, joins_at=w.joins_at
        )
        self.kernel.call_at(w.joins_at, self._join, w)

    def _join(self, w: Worker) -> None:
        if w.ended_at is not None:
            return
        nt = self.spec.node_types[w.node_type]
        node = self.backend.add_node(**nt.node_args())
        w.node = node
        w.idle_since = self.kernel.now
        self.events.append((self.kernel.now, "join", w.node_type, node.node_id))
        self.backend.recorder.record(
            "node_joined", launch=w.launch_id, node=node.index, node_type=w.node_type
        )
        rate = nt.spot_preemption_rate_per_hour
        if rate > 0:
            at = self.kernel.now + self.rng.expovariate(rate / 3600.0)
            self.kernel.call_at(at, self._preempt, w)

    def _preempt(self, w: Worker) -> None:
        if w.ended_at is None:
            self._terminate(w, "spot preemption", self.kernel.now)

    def _terminate(self, w: Worker, reason: str, now: float) -> None:
        w.ended_at = now
        w.end_reason = reason
        self.events.append((now, "terminate", w.node_type, reason))
        self.backend.recorder.record(
            "node_terminated",
            launch=w.launch_id,
            node=None if w.node is None else w.node.index,
            node_type=w.node_type,
            reason=reason,
        )
        if w.node is not None and w.node.alive:
            if reason != "spot preemption":
                # A drained node's objects stay readable (simray counts no references, so it
                # cannot tell live ones; Ray keeps a node that pins objects or spills them).
                self.backend.faults.objects_on.pop(w.node.index, None)
            self.backend.remove_node(w.node.node_id)

    # -- reports ---------------------------------------------------------------------------------
    def node_seconds(self, until: float) -> dict[str, float]:
        """Seconds each node type ran, from launch (billing starts then) to termination."""
        out: dict[str, float] = {self.spec.head_node_type: until}
        for w in self.workers:
            end = until if w.ended_at is None else min(w.ended_at, until)
            out[w.node_type] = out.get(w.node_type, 0.0) + max(0.0, end - w.launched_at)
        return out


def install(backend: Any, spec: ClusterSpec) -> SimAutoscaler:
    """Attach an autoscaler for `spec` to a sim session whose head node is already there."""
    autoscaler = SimAutoscaler(backend, spec)
    backend.autoscaler = autoscaler
    return autoscaler
