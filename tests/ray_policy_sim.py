"""Ray's autoscaling-policy `Simulator` (python/ray/tests/test_autoscaling_policy.py) ported to
the installed Ray 2.60 autoscaler: Ray's own StandardAutoscaler and LoadMetrics decide, in
virtual time, so simray's autoscaler can be checked against them end to end.

Same event loop as Ray's test: an autoscaler update every 5 s, nodes join 120 s after launch,
first-fit scheduling of queued work after each step. Ported to 2.60's API: LoadMetrics.update
takes node_id and node_idle_duration_s, StandardAutoscaler takes a gcs_client (unused: nothing
is drained while work is queued), nodes launch in the foreground (the provider config's
`foreground_node_launch`), and a node's status tag turns up-to-date when it joins (what
its NodeUpdater does in a real cluster). `time.time` in the autoscaler modules reads the
virtual clock, so idle timeouts and heartbeats run in virtual time too.

Options: `policy="simray"` puts simray's policy (`simray._model.autoscaler`) in place of
StandardAutoscaler's decisions; `schedule_first=True` gives work to nodes that joined at an
instant before that instant's update (the sim backend's order; Ray's test updates first);
`first_update_s` moves the first update (Ray's test: 0).
"""

from __future__ import annotations

import collections
import copy
import heapq
import itertools
import logging
from contextlib import ExitStack
from unittest import mock

from ray._private.gcs_utils import PlacementGroupTableData
from ray.autoscaler._private import autoscaler as _autoscaler_mod
from ray.autoscaler._private import load_metrics as _load_metrics_mod
from ray.autoscaler._private import providers as _providers
from ray.autoscaler._private.autoscaler import StandardAutoscaler
from ray.autoscaler._private.load_metrics import LoadMetrics
from ray.autoscaler.node_provider import NodeProvider
from ray.autoscaler.tags import (
    NODE_KIND_HEAD,
    STATUS_UNINITIALIZED,
    STATUS_UP_TO_DATE,
    TAG_RAY_NODE_KIND,
    TAG_RAY_NODE_STATUS,
    TAG_RAY_USER_NODE_TYPE,
)
from ray.core.generated.common_pb2 import Bundle, PlacementStrategy

UPDATE = 0
TASK_DONE = 1
NODE_JOINED = 2


class Work:
    """A task, an actor (infinite duration) or a placement group (bundles, strategy)."""

    def __init__(self, duration, resources=None, bundles=None, strategy=None):
        self.duration = duration
        self.resources = resources
        self.bundles = bundles
        self.strategy = strategy
        self.start_time = None
        self.allocated = []


class Node:
    def __init__(self, resources, in_cluster, node_type, start_time):
        self.total = dict(resources)
        self.available = dict(resources)
        self.in_cluster = in_cluster
        self.node_type = node_type
        self.start_time = start_time
        self.idle_since = start_time

    def fits(self, bundle):
        return self.in_cluster and all(self.available.get(r, -1) >= q for r, q in bundle.items())

    def feasible(self, bundle):
        return self.in_cluster and all(self.total.get(r, -1) >= q for r, q in bundle.items())

    def allocate(self, bundle, now):
        for r, q in bundle.items():
            self.available[r] -= q
        self.idle_since = None

    def free(self, bundle, now):
        for r, q in bundle.items():
            self.available[r] += q
        if self.available == self.total:
            self.idle_since = now


class VirtualProvider(NodeProvider):
    """A minimal in-memory NodeProvider (Ray's MockProvider is not in the wheel)."""

    def __init__(self, provider_config, cluster_name):
        super().__init__(provider_config, cluster_name)
        self.nodes = {}  # id -> {"tags", "ip", "terminated"}
        self._ids = itertools.count()

    def non_terminated_nodes(self, tag_filters):
        return [
            i
            for i, n in self.nodes.items()
            if not n["terminated"] and all(n["tags"].get(k) == v for k, v in tag_filters.items())
        ]

    def is_running(self, node_id):
        return not self.nodes[node_id]["terminated"]

    def is_terminated(self, node_id):
        return self.nodes[node_id]["terminated"]

    def node_tags(self, node_id):
        return self.nodes[node_id]["tags"]

    def internal_ip(self, node_id):
        return self.nodes[node_id]["ip"]

    def external_ip(self, node_id):
        return self.nodes[node_id]["ip"]

    def create_node(self, node_config, tags, count):
        for _ in range(count):
            i = next(self._ids)
            node_tags = {TAG_RAY_NODE_STATUS: STATUS_UNINITIALIZED, **tags}
            self.nodes[str(i)] = {
                "tags": node_tags,
                "ip": f"10.0.{i // 250}.{i % 250}",
                "terminated": False,
            }

    def set_node_tags(self, node_id, tags):
        self.nodes[node_id]["tags"].update(tags)

    def terminate_node(self, node_id):
        self.nodes[node_id]["terminated"] = True


class Simulator:
    """Ray's test Simulator, driving Ray 2.60's StandardAutoscaler in virtual time."""

    def __init__(
        self,
        config,
        update_interval_s=5,
        node_startup_delay_s=120,
        policy="ray",
        schedule_first=False,
        first_update_s=0.0,
    ):
        self.policy = policy
        self.schedule_first = schedule_first
        self.config = copy.deepcopy(config)
        self.config.setdefault("cluster_name", "policy-sim")
        self.config["provider"] = {
            "type": "simray_policy_sim",
            "foreground_node_launch": True,
            "disable_node_updaters": True,
        }
        for key in ("file_mounts", "auth"):
            self.config.setdefault(key, {})
        for key in ("cluster_synced_files", "worker_setup_commands", "worker_start_ray_commands"):
            self.config.setdefault(key, [])
        for t in self.config["available_node_types"].values():
            t.setdefault("node_config", {})
            t.setdefault("min_workers", 0)
        self.update_interval_s = update_interval_s
        self.node_startup_delay_s = node_startup_delay_s
        self.virtual_time = 0.0
        self._stack = ExitStack()
        clock = mock.Mock(time=lambda: self.virtual_time)
        asctime = __import__("time")
        clock.asctime, clock.localtime = asctime.asctime, asctime.localtime
        self._stack.enter_context(mock.patch.object(_autoscaler_mod, "time", clock))
        self._stack.enter_context(mock.patch.object(_load_metrics_mod, "time", clock))
        self.provider = VirtualProvider(self.config["provider"], self.config["cluster_name"])
        self._stack.enter_context(
            mock.patch.dict(
                _providers._NODE_PROVIDERS,
                {"simray_policy_sim": lambda _cfg: lambda *a: self.provider},
            )
        )
        self._stack.callback(_providers._clear_provider_cache)
        ray_log = logging.getLogger("ray.autoscaler")
        self._stack.callback(ray_log.setLevel, ray_log.level)
        ray_log.setLevel(logging.ERROR)
        self.provider.create_node(
            {},
            {
                TAG_RAY_NODE_KIND: NODE_KIND_HEAD,
                TAG_RAY_USER_NODE_TYPE: self.config["head_node_type"],
                TAG_RAY_NODE_STATUS: STATUS_UP_TO_DATE,
            },
            1,
        )
        self.load_metrics = LoadMetrics()
        self.autoscaler = StandardAutoscaler(
            lambda: copy.deepcopy(self.config),
            self.load_metrics,
            gcs_client=mock.Mock(drain_nodes=lambda ids, timeout=None: ids),
            max_failures=0,
            update_interval_s=0,
        )
        self.ip_to_node = {}
        self.launches = []
        self.terminations = []
        self._simray_policy = None
        self.work_queue = []
        self.events = []
        self._seq = itertools.count()
        self._update_cluster_state(join_immediately=True)
        self._push(first_update_s, UPDATE, None)

    def close(self):
        self._stack.close()

    def _push(self, t, kind, data):
        heapq.heappush(self.events, (t, next(self._seq), kind, data))

    def _update_cluster_state(self, join_immediately=False):
        for node_id in self.provider.non_terminated_nodes({}):
            ip = self.provider.internal_ip(node_id)
            if ip in self.ip_to_node:
                continue
            node_type = self.provider.node_tags(node_id)[TAG_RAY_USER_NODE_TYPE]
            resources = self.config["available_node_types"][node_type].get("resources", {})
            node = Node(resources, join_immediately, node_type, self.virtual_time)
            node.provider_id = node_id
            self.launches.append((self.virtual_time, node_type))
            self.ip_to_node[ip] = node
            if not join_immediately:
                self._push(self.virtual_time + self.node_startup_delay_s, NODE_JOINED, node)
        for ip, node in list(self.ip_to_node.items()):
            if self.provider.is_terminated(node.provider_id):
                del self.ip_to_node[ip]
                self.terminations.append((self.virtual_time, node.node_type, "terminated"))

    def submit(self, work):
        self.work_queue.extend(work)

    def _first_fit(self, bundle, nodes):
        for ip, node in nodes.items():
            if node.fits(bundle):
                return ip
        return None

    def _schedule(self, work):
        if work.bundles is None:
            plan = [(work.resources, self._first_fit(work.resources, self.ip_to_node))]
        elif work.strategy in (PlacementStrategy.STRICT_PACK, PlacementStrategy.PACK):
            combined = collections.defaultdict(float)
            for b in work.bundles:
                for k, v in b.items():
                    combined[k] += v
            plan = [(dict(combined), self._first_fit(combined, self.ip_to_node))]
        else:
            remaining = dict(self.ip_to_node)
            plan = []
            for b in work.bundles:
                ip = self._first_fit(b, remaining)
                if ip is None:
                    return False
                remaining.pop(ip)
                plan.append((b, ip))
        if any(ip is None for _, ip in plan):
            return False
        for bundle, ip in plan:
            self.ip_to_node[ip].allocate(bundle, self.virtual_time)
        work.allocated = plan
        work.start_time = self.virtual_time
        if work.duration != float("inf"):
            self._push(self.virtual_time + work.duration, TASK_DONE, work)
        return True

    def schedule(self):
        # First fit in queue order, as Ray's test; a shape that did not fit is not retried in
        # the same pass (resources only shrink during a pass), which changes nothing but speed.
        failed, queue = set(), []
        for w in self.work_queue:
            key = (w.strategy, repr(w.bundles if w.bundles is not None else w.resources))
            if key in failed or not self._schedule(w):
                failed.add(key)
                queue.append(w)
        self.work_queue = queue

    def _infeasible(self, bundle):
        return not any(n.feasible(bundle) for n in self.ip_to_node.values())

    def run_autoscaler(self):
        waiting, infeasible, groups = [], [], []
        for work in self.work_queue:
            if work.bundles is None:
                (infeasible if self._infeasible(work.resources) else waiting).append(work.resources)
            else:
                groups.append(
                    PlacementGroupTableData(
                        state=PlacementGroupTableData.PENDING,
                        strategy=work.strategy,
                        bundles=[Bundle(unit_resources=b) for b in work.bundles],
                    )
                )
        for ip, node in self.ip_to_node.items():
            if not node.in_cluster:
                continue
            idle = 0.0 if node.idle_since is None else self.virtual_time - node.idle_since
            self.load_metrics.update(
                ip=ip,
                node_id=ip.encode(),
                static_resources=node.total,
                dynamic_resources=node.available,
                node_idle_duration_s=idle,
                waiting_bundles=waiting,
                infeasible_bundles=infeasible,
                pending_placement_groups=groups,
            )
        if self.policy == "ray":
            self.autoscaler.update()
        else:
            self._simray_update(waiting, infeasible)
        self._update_cluster_state()

    def _simray_update(self, waiting, infeasible):
        """simray's policy in place of StandardAutoscaler._update: idle termination, then the
        launch decision on the remaining nodes."""
        from simray._model import autoscaler as sp

        last_used = self.load_metrics.ray_nodes_last_used_time_by_ip
        workers = [
            sp.WorkerState(ip, n.node_type, last_used.get(ip))
            for ip, n in self.ip_to_node.items()
            if self.provider.node_tags(n.provider_id)[TAG_RAY_NODE_KIND] != NODE_KIND_HEAD
        ]
        cfg = self.config
        for ip, _reason in sp.nodes_to_terminate(
            cfg["available_node_types"],
            cfg["head_node_type"],
            cfg["max_workers"],
            60 * cfg["idle_timeout_minutes"],
            self.virtual_time,
            workers,
        ):
            self.provider.terminate_node(self.ip_to_node[ip].provider_id)
        self._update_cluster_state()

        if self._simray_policy is None:
            cfg = self.config
            self._simray_policy = sp.ResourceDemandScheduler(
                cfg["available_node_types"], cfg["max_workers"], cfg["head_node_type"], 1.0
            )
            self._simray_policy.upscaling_speed = (
                self.autoscaler.resource_demand_scheduler.upscaling_speed
            )
        nodes = []
        for node in self.ip_to_node.values():
            kind = self.provider.node_tags(node.provider_id)[TAG_RAY_NODE_KIND]
            connected = node.in_cluster
            nodes.append(
                sp.ClusterNode(
                    node.node_type,
                    dict(node.available) if connected else None,
                    dict(node.total) if connected else None,
                    kind == NODE_KIND_HEAD,
                )
            )
        names = {v: k for k, v in PlacementStrategy.items()}
        groups = [
            sp.PendingPlacementGroup(names[w.strategy], [dict(b) for b in w.bundles])
            for w in self.work_queue
            if w.bundles is not None
        ]
        cap = sp.MAX_RESOURCE_DEMAND_VECTOR_SIZE
        to_launch, _ = self._simray_policy.get_nodes_to_launch(
            nodes, {}, waiting[:cap] + infeasible[:cap], groups, []
        )
        for node_type, count in to_launch.items():
            self.provider.create_node(
                {}, {TAG_RAY_NODE_KIND: "worker", TAG_RAY_USER_NODE_TYPE: node_type}, count
            )

    def step(self):
        self.virtual_time = self.events[0][0]
        while self.events and self.events[0][0] == self.virtual_time:
            _, _, kind, data = heapq.heappop(self.events)
            if kind == UPDATE:
                if self.schedule_first:
                    self.schedule()
                self.run_autoscaler()
                self._push(self.virtual_time + self.update_interval_s, UPDATE, None)
            elif kind == TASK_DONE:
                for bundle, ip in data.allocated:
                    if ip in self.ip_to_node:
                        self.ip_to_node[ip].free(bundle, self.virtual_time)
            elif kind == NODE_JOINED:
                data.in_cluster = True
                data.idle_since = self.virtual_time  # a raylet is idle from its start
                self.provider.set_node_tags(
                    data.provider_id, {TAG_RAY_NODE_STATUS: STATUS_UP_TO_DATE}
                )
        self.schedule()
        return self.virtual_time

    def node_counts(self):
        return collections.Counter(n.node_type for n in self.ip_to_node.values())


def run(config, workload, policy="ray", **options):
    """Run `workload` ("tasks", "actors" or "placement_groups", as in Ray's test) under Ray's
    autoscaler (policy "ray") or simray's (policy "simray"); return the virtual time when all
    work has finished (tasks) or started, and the launches as (time, node type) pairs followed
    by the terminations as (time, node type, "terminated")."""
    sim = Simulator(config, policy=policy, **options)
    try:
        if workload == "tasks":
            work = [Work(200, {"CPU": 1}) for _ in range(5000)]
        elif workload == "actors":
            work = [Work(float("inf"), {"CPU": 1}) for _ in range(5000)]
        else:
            work = [
                Work(float("inf"), bundles=[{"CPU": 1}, {"CPU": 2}], strategy=s)
                for s in [PlacementStrategy.STRICT_PACK] * 500
                + [PlacementStrategy.STRICT_SPREAD] * 500
            ]
        sim.submit(work)
        done = (
            (lambda: not sim.work_queue and not any(e[2] == TASK_DONE for e in sim.events))
            if workload == "tasks"
            else (lambda: not sim.work_queue)
        )
        t = 0.0
        while not done():
            t = sim.step()
        return t, sim.launches + sim.terminations
    finally:
        sim.close()
