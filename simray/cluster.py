"""A simulated multi-node cluster, modelled on `ray.cluster_utils.Cluster`.

Nodes added before `connect()` (or `init(address=cluster.address)`) form the starting cluster;
nodes added or removed while the session runs join or leave it at the current virtual time.

Example:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    cluster.add_node(num_cpus=4, num_gpus=1, accelerator_type="A100")
    cluster.connect()
"""

from __future__ import annotations

import itertools
from typing import Any

from simray import _session

_clusters: dict[str, Any] = {}
_counter = itertools.count(1)
_NODE_ARGS = {
    "num_cpus",
    "num_gpus",
    "resources",
    "memory",
    "object_store_memory",
    "labels",
    "accelerator_type",
}
# Ray's add_node arguments that mean nothing in a simulation; accepted so Ray code runs.
_IGNORED_ARGS = {
    "min_worker_port",
    "max_worker_port",
    "dashboard_port",
    "include_dashboard",
    "_system_config",
    "node_ip_address",
    "namespace",
    "env_vars",
}


class ClusterNode:
    """A node handle, as `Cluster.add_node` returns (Ray returns its `Node` object)."""

    def __init__(self, spec: dict[str, Any], is_head: bool):
        self.spec = spec
        self.is_head = is_head
        self.node_id: str | None = None

    @property
    def unique_id(self) -> str | None:
        return self.node_id

    def __repr__(self) -> str:
        return f"ClusterNode({'head' if self.is_head else 'worker'}, {self.spec})"


def find(address: str | None) -> Any:
    """The cluster an `init(address=...)` names; `"auto"` means the newest one."""
    if address is None:
        return None
    if address == "auto":
        return list(_clusters.values())[-1] if _clusters else None
    return _clusters.get(address)


class Cluster:
    """Build a cluster of simulated nodes for the sim backend."""

    def __init__(
        self,
        initialize_head: bool = False,
        connect: bool = False,
        head_node_args: dict[str, Any] | None = None,
        shutdown_at_exit: bool = True,
    ):
        self.head_node: ClusterNode | None = None
        self.worker_nodes: set[ClusterNode] = set()
        self._order: list[ClusterNode] = []
        self._session: Any = None
        self.address: str | None = None
        if connect and not initialize_head:
            raise RuntimeError("Cannot connect to uninitialized cluster.")
        if initialize_head:
            self.add_node(**(head_node_args or {}))
            if connect:
                self.connect()

    @property
    def gcs_address(self) -> str | None:
        return self.address

    def add_node(self, wait: bool = True, **node_args: Any) -> ClusterNode:
        """Add a node (Ray's defaults: 1 CPU, 0 GPUs); the first one is the head."""
        unknown = set(node_args) - _NODE_ARGS - _IGNORED_ARGS
        if unknown:
            raise TypeError(
                f"add_node() got unknown argument(s) {sorted(unknown)}; "
                f"a simulated node takes {sorted(_NODE_ARGS)}"
            )
        from simray._model.labels import check_node_labels

        check_node_labels(node_args.get("labels"))
        spec = {"num_cpus": 1, "num_gpus": 0}
        spec.update({k: v for k, v in node_args.items() if k in _NODE_ARGS})
        node = ClusterNode(spec, is_head=self.head_node is None)
        if node.is_head:
            self.head_node = node
            self.address = f"sim://cluster-{next(_counter)}"
            _clusters[self.address] = self
        else:
            self.worker_nodes.add(node)
        self._order.append(node)
        if self._session is not None and _session.active() is self._session:
            node.node_id = self._session.add_node(**spec).node_id
        return node

    def remove_node(self, node: ClusterNode, allow_graceful: bool = True) -> None:
        """Remove a node; while a session runs, the node dies at the current virtual time."""
        if node is self.head_node and self._session is not None:
            raise ValueError(
                "Removing a node that is connected to this Ray client is not allowed because it "
                "will break the driver. You can use the get_other_node utility to avoid removing "
                "a node that the Ray client is connected."
            )
        if node in self.worker_nodes:
            self.worker_nodes.discard(node)
        elif node is self.head_node:
            self.head_node = None
        else:
            raise ValueError(f"{node!r} is not a node of this cluster")
        self._order.remove(node)
        if self._session is not None and node.node_id is not None:
            self._session.remove_node(node.node_id)

    def node_specs(self) -> list[dict[str, Any]]:
        """The starting nodes, head first."""
        if self.head_node is None:
            raise RuntimeError("Cannot connect to uninitialized cluster.")
        return [dict(n.spec) for n in self._order]

    def _attach(self, session: Any) -> None:
        self._session = session
        for node, info in zip(self._order, session.nodes(), strict=True):
            node.node_id = info["NodeID"]

    def connect(self, namespace: str | None = None) -> Any:
        """Start a sim session on this cluster (`init(address=self.address)`)."""
        from simray import _api

        return _api.init(address=self.address, namespace=namespace, ignore_reinit_error=True)

    def list_all_nodes(self) -> list[ClusterNode]:
        return list(self._order)

    def wait_for_nodes(self, timeout: float = 30) -> None:
        """Nodes join at once in a simulation: nothing to wait for."""

    def shutdown(self) -> None:
        """End the session (if it runs on this cluster) and forget the nodes."""
        if self._session is not None and _session.active() is self._session:
            _session.shutdown()
        self._session = None
        if self.address is not None:
            _clusters.pop(self.address, None)
        self.head_node = None
        self.worker_nodes.clear()
        self._order.clear()


# Ray's fake multi-node example.yaml, which AutoscalingCluster starts from.
_FAKE_MULTINODE_DEFAULTS = {
    "cluster_name": "fake_multinode",
    "max_workers": 8,
    "upscaling_speed": 1.0,
    "idle_timeout_minutes": 0.1,
    "head_node_type": "ray.head.default",
}
FAKE_UPDATE_INTERVAL_S = 1.0  # AutoscalingCluster.start sets AUTOSCALER_UPDATE_INTERVAL_S=1
FAKE_LAUNCH_DELAY_S = 5.0  # a fake node is a local raylet: it joins in seconds


class AutoscalingCluster:
    """`ray.cluster_utils.AutoscalingCluster` on the sim backend: Ray's autoscaler in virtual time.

    `start()` makes it the cluster that `init("auto")` connects to; the head has
    `head_resources`, and worker nodes of `worker_node_types` are launched and terminated by the
    autoscaler (Ray's v1 policy) as demand comes and goes. Nodes join `launch_delay_s` after
    launch (default 5 s, as a fake node starts in seconds); updates run every second, as Ray's
    fake cluster sets. `config_kwargs` override top-level keys (`max_workers`,
    `idle_timeout_minutes`, `upscaling_speed`).
    """

    def __init__(
        self,
        head_resources: dict[str, Any],
        worker_node_types: dict[str, Any],
        autoscaler_v2: bool = False,
        **config_kwargs: Any,
    ):
        from simray._model import cluster_spec

        config: dict[str, Any] = dict(_FAKE_MULTINODE_DEFAULTS)
        config["update_interval_s"] = FAKE_UPDATE_INTERVAL_S
        types = {}
        for name, raw in worker_node_types.items():
            entry = dict(raw)
            entry.setdefault("launch_delay_s", FAKE_LAUNCH_DELAY_S)
            types[name] = entry
        types["ray.head.default"] = {
            "resources": dict(head_resources),
            "node_config": {},
            "max_workers": 0,
        }
        config["available_node_types"] = types
        config.update(config_kwargs)
        self.autoscaler_v2 = autoscaler_v2
        self.spec = cluster_spec.from_dict(config, "AutoscalingCluster config")
        self.address: str | None = None
        self._session: Any = None

    @classmethod
    def from_spec(cls, spec: Any) -> AutoscalingCluster:
        """A cluster for `init(cluster=...)`: a ClusterSpec, a spec file path or a dict."""
        from simray._model import cluster_spec

        self = cls.__new__(cls)
        self.autoscaler_v2 = False
        self.spec = cluster_spec.coerce(spec)
        self.address = None
        self._session = None
        return self

    def start(self, _system_config: Any = None, override_env: Any = None) -> None:
        """Make this the cluster `init("auto")` (or `init(address=self.address)`) connects to."""
        self.address = f"sim://autoscaling-cluster-{next(_counter)}"
        _clusters[self.address] = self  # type: ignore[assignment]

    def node_specs(self) -> list[dict[str, Any]]:
        """The starting cluster: the head node alone."""
        return [self.spec.node_types[self.spec.head_node_type].node_args()]

    def _attach(self, session: Any) -> None:
        self._session = session
        session.enable_autoscaler(self.spec)

    def shutdown(self) -> None:
        """End the session if it runs on this cluster, and forget the cluster."""
        if self._session is not None and _session.active() is self._session:
            _session.shutdown()
        self._session = None
        if self.address is not None:
            _clusters.pop(self.address, None)
            self.address = None


__all__ = ["AutoscalingCluster", "Cluster", "ClusterNode"]
