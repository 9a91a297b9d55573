"""Cluster specs for autoscaling: node types as in Ray's `available_node_types`, plus what a
simulator needs (launch delay, price, spot preemption), read from TOML or Ray's cluster YAML.

A spec file is TOML:

    head_node_type = "head"
    max_workers = 20
    upscaling_speed = 1.0
    idle_timeout_minutes = 5

    [node_types.head]
    resources = { CPU = 4 }

    [node_types.cpu16]
    resources = { CPU = 16, memory = 64e9 }
    min_workers = 0
    max_workers = 10
    launch_delay_s = 120                      # or { dist = "uniform", low = 60, high = 180 }
    price_per_hour = 0.77
    spot_preemption_rate_per_hour = 0.0

or Ray's cluster YAML (needs PyYAML, which comes with Ray). Every error names the file, the key
and the fix.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LAUNCH_DELAY_S = 120.0  # Ray's autoscaling-policy simulation uses 120 s
DEFAULT_IDLE_TIMEOUT_MINUTES = 5.0  # Ray's provider defaults.yaml
DEFAULT_UPDATE_INTERVAL_S = 5.0  # AUTOSCALER_UPDATE_INTERVAL_S
_TOP_KEYS = {
    "cluster_name",
    "head_node_type",
    "max_workers",
    "upscaling_speed",
    "idle_timeout_minutes",
    "update_interval_s",
    "node_types",
    "available_node_types",
    # Ray YAML keys that mean nothing in a simulation
    "provider",
    "auth",
    "docker",
    "file_mounts",
    "cluster_synced_files",
    "file_mounts_sync_continuously",
    "rsync_exclude",
    "rsync_filter",
    "initialization_commands",
    "setup_commands",
    "head_setup_commands",
    "worker_setup_commands",
    "head_start_ray_commands",
    "worker_start_ray_commands",
    "target_utilization_fraction",
    "autoscaling_mode",
    "min_workers",
    "head_node",
    "worker_nodes",
    "idle_timeout_s",
    "no_restart",
}
_TYPE_KEYS = {
    "resources",
    "min_workers",
    "max_workers",
    "labels",
    "accelerator_type",
    "launch_delay_s",
    "price_per_hour",
    "spot_preemption_rate_per_hour",
    # Ray YAML keys that mean nothing in a simulation
    "node_config",
    "worker_setup_commands",
    "initialization_commands",
    "docker",
    "idle_timeout_s",
    "priority",
}


class SpecError(ValueError):
    """A malformed cluster spec: names the file, the key and the fix."""


@dataclass(frozen=True)
class Delay:
    """A launch delay: fixed (`value`) or drawn from a distribution with the session's RNG."""

    dist: str = "fixed"  # fixed, uniform, normal, exponential
    value: float = DEFAULT_LAUNCH_DELAY_S
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    std: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if self.dist == "fixed":
            return self.value
        if self.dist == "uniform":
            return rng.uniform(self.low, self.high)
        if self.dist == "normal":
            return max(0.0, rng.gauss(self.mean, self.std))
        return rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0


@dataclass
class NodeType:
    """One node type: Ray's fields plus launch delay, price and spot preemption rate."""

    name: str
    resources: dict[str, float]
    min_workers: int = 0
    max_workers: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    accelerator_type: str | None = None
    launch_delay: Delay = field(default_factory=Delay)
    price_per_hour: float = 0.0
    spot_preemption_rate_per_hour: float = 0.0

    def ray_resources(self) -> dict[str, float]:
        """The resources Ray's autoscaler sees for this type (accelerator as a resource)."""
        out = dict(self.resources)
        if self.accelerator_type:
            out.setdefault(f"accelerator_type:{self.accelerator_type}", 1)
        return out

    def node_args(self) -> dict[str, Any]:
        """Arguments for the sim backend's `add_node`."""
        res = dict(self.resources)
        args: dict[str, Any] = {
            "num_cpus": res.pop("CPU", 0),
            "num_gpus": res.pop("GPU", 0),
            "labels": dict(self.labels),
            "accelerator_type": self.accelerator_type,
        }
        if "memory" in res:
            args["memory"] = res.pop("memory")
        if "object_store_memory" in res:
            args["object_store_memory"] = res.pop("object_store_memory")
        args["resources"] = res
        return args


@dataclass
class ClusterSpec:
    """A cluster for the autoscaler: node types (config order kept), head type and limits."""

    node_types: dict[str, NodeType]
    head_node_type: str
    max_workers: int
    upscaling_speed: float = 1.0
    idle_timeout_minutes: float = DEFAULT_IDLE_TIMEOUT_MINUTES
    update_interval_s: float = DEFAULT_UPDATE_INTERVAL_S
    source: str = "<spec>"

    def ray_node_types(self) -> dict[str, dict[str, Any]]:
        """`available_node_types` in Ray's shape, for the policy."""
        return {
            name: {
                "resources": t.ray_resources(),
                "min_workers": t.min_workers,
                "max_workers": t.max_workers,
            }
            for name, t in self.node_types.items()
        }

    def with_value(self, key: str, value: Any) -> ClusterSpec:
        """A copy with one value changed: `max_workers`, or `node_types.<type>.<field>`."""
        data = to_dict(self)
        set_path(data, key, value, self.source)
        return from_dict(data, self.source)


def set_path(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set a dotted key in nested dicts (for sweeps); errors name the missing part."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node.get(part), dict):
            raise SpecError(
                f"{source}: no table {'.'.join(parts[: i + 1])!r} to set {key!r} in; "
                f"the spec has {sorted(node) if isinstance(node, dict) else []}"
            )
        node = node[part]
    node[parts[-1]] = value


def to_dict(spec: ClusterSpec) -> dict[str, Any]:
    """The spec as the TOML-shaped dict `from_dict` reads."""
    types = {}
    for name, t in spec.node_types.items():
        d = t.launch_delay
        delay: Any = (
            d.value
            if d.dist == "fixed"
            else {k: getattr(d, k) for k in ("dist", "low", "high", "mean", "std")}
        )
        types[name] = {
            "resources": dict(t.resources),
            "min_workers": t.min_workers,
            "max_workers": t.max_workers,
            "labels": dict(t.labels),
            "launch_delay_s": delay,
            "price_per_hour": t.price_per_hour,
            "spot_preemption_rate_per_hour": t.spot_preemption_rate_per_hour,
        }
        if t.accelerator_type:
            types[name]["accelerator_type"] = t.accelerator_type
    return {
        "head_node_type": spec.head_node_type,
        "max_workers": spec.max_workers,
        "upscaling_speed": spec.upscaling_speed,
        "idle_timeout_minutes": spec.idle_timeout_minutes,
        "update_interval_s": spec.update_interval_s,
        "node_types": types,
    }


def _number(source: str, key: str, value: Any, minimum: float = 0.0, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        kind = "an integer" if integer else "a number"
        raise SpecError(f"{source}: {key} must be {kind} >= {minimum:g}, got {value!r}")
    if integer and value != int(value):
        raise SpecError(
            f"{source}: {key} must be an integer, got {value!r}; write e.g. {int(value)}"
        )
    if value < minimum:
        raise SpecError(f"{source}: {key} must be >= {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def _delay(source: str, key: str, value: Any) -> Delay:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Delay("fixed", _number(source, key, value))
    if not isinstance(value, Mapping):
        raise SpecError(
            f"{source}: {key} must be seconds (e.g. 120) or a distribution table "
            f'(e.g. {{ dist = "uniform", low = 60, high = 180 }}), got {value!r}'
        )
    dist = value.get("dist", "fixed")
    needs = {
        "fixed": ("value",),
        "uniform": ("low", "high"),
        "normal": ("mean", "std"),
        "exponential": ("mean",),
    }
    if dist not in needs:
        raise SpecError(f"{source}: {key}.dist must be one of {sorted(needs)}, got {dist!r}")
    extra = set(value) - {"dist", *needs[dist]} - {"low", "high", "mean", "std", "value"}
    if extra:
        raise SpecError(
            f"{source}: {key} has unknown key(s) {sorted(extra)}; a {dist} delay "
            f"takes {list(needs[dist])}"
        )
    fields: dict[str, float] = {}
    for k in needs[dist]:
        if k not in value:
            raise SpecError(f"{source}: {key} with dist = {dist!r} needs {k}; add {k} = <seconds>")
        fields[k] = _number(source, f"{key}.{k}", value[k])
    if dist == "uniform" and fields["high"] < fields["low"]:
        raise SpecError(f"{source}: {key}.high ({fields['high']}) must be >= low ({fields['low']})")
    return Delay(dist, **fields)  # type: ignore[arg-type]


def _node_type(source: str, name: str, raw: Any, is_head: bool, global_max: int) -> NodeType:
    where = f"node_types.{name}"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{source}: {where} must be a table of node type fields, got {raw!r}")
    unknown = set(raw) - _TYPE_KEYS
    if unknown:
        raise SpecError(
            f"{source}: {where} has unknown key(s) {sorted(unknown)}; a node type takes "
            f"{sorted(_TYPE_KEYS - {'node_config', 'worker_setup_commands', 'initialization_commands', 'docker', 'idle_timeout_s', 'priority'})}"
        )
    if "resources" not in raw:
        raise SpecError(
            f"{source}: {where}.resources is missing; add e.g. resources = {{ CPU = 8 }}"
        )
    resources_raw = raw["resources"]
    if not isinstance(resources_raw, Mapping):
        raise SpecError(
            f"{source}: {where}.resources must be a table of name = quantity, got {resources_raw!r}"
        )
    resources = {
        str(k): _number(source, f"{where}.resources.{k}", v) for k, v in resources_raw.items()
    }
    default_max = 0 if is_head else global_max
    max_w = _number(source, f"{where}.max_workers", raw.get("max_workers", default_max), 0, True)
    min_w = _number(source, f"{where}.min_workers", raw.get("min_workers", 0), 0, True)
    labels = raw.get("labels", {})
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise SpecError(f"{source}: {where}.labels must map strings to strings, got {labels!r}")
    accel = raw.get("accelerator_type")
    if accel is not None and not isinstance(accel, str):
        raise SpecError(f"{source}: {where}.accelerator_type must be a string such as 'A100'")
    return NodeType(
        name=name,
        resources=resources,
        min_workers=min_w,
        max_workers=max_w,
        labels=dict(labels),
        accelerator_type=accel,
        launch_delay=_delay(
            source, f"{where}.launch_delay_s", raw.get("launch_delay_s", DEFAULT_LAUNCH_DELAY_S)
        ),
        price_per_hour=_number(source, f"{where}.price_per_hour", raw.get("price_per_hour", 0.0)),
        spot_preemption_rate_per_hour=_number(
            source,
            f"{where}.spot_preemption_rate_per_hour",
            raw.get("spot_preemption_rate_per_hour", 0.0),
        ),
    )


def from_dict(data: Mapping[str, Any], source: str = "<spec>") -> ClusterSpec:
    """Build a spec from a TOML/YAML-shaped dict, with Ray's defaults and validation."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a cluster spec must be a table, got {type(data).__name__}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpecError(
            f"{source}: unknown key(s) {sorted(unknown)}; a cluster spec takes head_node_type, "
            "max_workers, upscaling_speed, idle_timeout_minutes, update_interval_s, node_types"
        )
    types_raw = data.get("node_types", data.get("available_node_types"))
    if not isinstance(types_raw, Mapping) or not types_raw:
        raise SpecError(
            f"{source}: node_types is missing or empty; add at least a head type, e.g. "
            "[node_types.head] resources = { CPU = 4 }"
        )
    head = data.get("head_node_type")
    if head is None:
        if len(types_raw) != 1:
            raise SpecError(
                f"{source}: head_node_type is missing; set it to one of {list(types_raw)}"
            )
        head = next(iter(types_raw))
    if head not in types_raw:
        raise SpecError(
            f"{source}: head_node_type = {head!r} is not a node type; choose one of "
            f"{list(types_raw)}"
        )
    max_workers = _number(source, "max_workers", data.get("max_workers", 2), 0, True)
    types = {
        str(name): _node_type(source, str(name), raw, name == head, max_workers)
        for name, raw in types_raw.items()
    }
    if sum(t.min_workers for t in types.values()) > max_workers:
        raise SpecError(
            f"{source}: max_workers ({max_workers}) is smaller than the sum of min_workers of "
            "the node types; raise max_workers or lower min_workers (Ray: 'The specified global "
            "`max_workers` is smaller than the sum of `min_workers` of all the available node "
            "types.')"
        )
    speed = data.get("upscaling_speed")
    if speed:
        speed = _number(source, "upscaling_speed", speed)
    elif data.get("autoscaling_mode") == "aggressive":
        speed = 99999.0
    elif data.get("target_utilization_fraction"):
        frac = _number(source, "target_utilization_fraction", data["target_utilization_fraction"])
        speed = 1 / max(frac, 0.001) - 1
    else:
        speed = 1.0  # v1 autoscaler's fallback
    return ClusterSpec(
        node_types=types,
        head_node_type=head,
        max_workers=max_workers,
        upscaling_speed=speed,
        idle_timeout_minutes=_number(
            source,
            "idle_timeout_minutes",
            data.get("idle_timeout_minutes", DEFAULT_IDLE_TIMEOUT_MINUTES),
        ),
        update_interval_s=_number(
            source, "update_interval_s", data.get("update_interval_s", DEFAULT_UPDATE_INTERVAL_S)
        ),
        source=source,
    )


def load(path: str | os.PathLike[str]) -> ClusterSpec:
    """Read a spec from a `.toml` file or Ray's cluster `.yaml`/`.yml` (needs PyYAML)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SpecError(f"{path}: no such cluster spec file")
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise SpecError(
                f"{path}: reading Ray's cluster YAML needs PyYAML (it comes with Ray); "
                "`pip install pyyaml`, or write the spec as TOML"
            ) from None
        with open(path, encoding="utf-8") as f:
            try:
                data = yaml.safe_load(f)
            except yaml.YAMLError as e:
                raise SpecError(f"{path}: not valid YAML: {e}") from None
        return from_dict(data or {}, path)
    import tomllib

    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"{path}: not valid TOML: {e}") from None
    if "cluster" in data and isinstance(data["cluster"], Mapping):
        data = data["cluster"]
    return from_dict(data, path)


def coerce(cluster: Any) -> ClusterSpec:
    """A ClusterSpec from a spec, a path, or a dict (for `init(cluster=...)`)."""
    if isinstance(cluster, ClusterSpec):
        return cluster
    if isinstance(cluster, str | os.PathLike):
        return load(cluster)
    if isinstance(cluster, Mapping):
        return from_dict(cluster, "<cluster dict>")
    raise TypeError(
        f"cluster= takes a ClusterSpec, a path to a .toml/.yaml spec, or a dict; got {cluster!r}"
    )
