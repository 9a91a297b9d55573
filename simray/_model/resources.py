"""Resource arithmetic in Ray's fixed point (1e-4 units), demands and node capacity.

Ray stores every quantity as an integer number of 1/10000 units (`RESOURCE_UNIT_SCALING`), so
simray does too: no float drift, and fractional GPUs add up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

UNIT = 10_000
ACCELERATOR_PREFIX = "accelerator_type:"
ACCELERATOR_DEMAND = 10  # 0.001 in units, as Ray adds for `accelerator_type=`
# Resources whose utilisation Ray's hybrid policy looks at ("critical resources").
CRITICAL = ("CPU", "memory", "object_store_memory")

Demand = dict[str, int]


def to_units(name: str, quantity: float) -> int:
    """Convert a user quantity to fixed point, with Ray's messages for bad values."""
    if quantity < 0:
        raise ValueError(f"The quantity of resource {name} cannot be negative")
    units = int(round(quantity * UNIT))
    if quantity != 0 and int(quantity * UNIT) == 0:
        raise ValueError(
            f"The precision of the fractional quantity of resource {name} cannot go beyond 0.0001"
        )
    return units


def to_float(units: int) -> float:
    """Fixed point back to the float that Ray reports."""
    return units / UNIT


def to_floats(units: Mapping[str, int]) -> dict[str, float]:
    """A demand or total in float quantities, as Ray reports resources."""
    return {k: v / UNIT for k, v in units.items()}


def demand_from_options(
    num_cpus: float | None,
    num_gpus: float | None,
    resources: Mapping[str, float] | None,
    memory: float | None,
    accelerator_type: str | None,
    default_cpus: float,
) -> Demand:
    """Build a demand the way Ray's `resources_from_ray_options` does (zeros dropped)."""
    demand: Demand = {}
    cpus = default_cpus if num_cpus is None else num_cpus
    if cpus:
        demand["CPU"] = to_units("num_cpus", cpus)
    if num_gpus:
        demand["GPU"] = to_units("num_gpus", num_gpus)
    if memory:
        demand["memory"] = to_units("memory", int(memory))
    for name, qty in (resources or {}).items():
        units = to_units(name, qty)
        if units:
            demand[name] = units
    if accelerator_type is not None:
        demand[ACCELERATOR_PREFIX + accelerator_type] = ACCELERATOR_DEMAND
    return demand


def format_demand(demand: Mapping[str, int]) -> str:
    """Render a demand as Ray prints one: `{'CPU': 1.0, 'GPU': 1.0}`."""
    return "{" + ", ".join(f"{k!r}: {to_float(v)}" for k, v in demand.items()) + "}"


# What a demand without GPUs takes of GPU instances: shared, so a queued task costs no list.
NO_GPU_SHARES: Sequence[tuple[int, int]] = ()


class NodeResources:
    """Total and available resources of one node, with GPU instances that have ids.

    A fractional GPU request (<= 1) takes part of one instance (best fit, lowest id first, as
    Ray's instance allocator); a whole request takes whole free instances, lowest ids first.
    """

    __slots__ = ("total", "available", "gpu_free", "gpu_capacity", "gpu_ids", "tracker")

    def __init__(self, total: Demand, gpu_shares: list[tuple[int, int]] | None = None):
        """A node's resources; with `gpu_shares`, a pool carved out of a node's GPU instances
        (a placement group bundle): `(instance id, units)` pairs it may use."""
        self.total = dict(total)
        self.available = dict(total)
        if gpu_shares is None:
            count = total.get("GPU", 0) // UNIT
            self.gpu_capacity = [UNIT] * count
            self.gpu_ids = list(range(count))
        else:
            self.gpu_capacity = [u for _, u in gpu_shares]
            self.gpu_ids = [i for i, _ in gpu_shares]
        self.gpu_free = list(self.gpu_capacity)
        # A scheduler's list of changed nodes (its placement index re-ranks them before the
        # next choice): a change appends these resources once, then this is None until then.
        self.tracker: list[NodeResources] | None = None

    def _changed(self) -> None:
        tracker = self.tracker
        if tracker is not None:
            self.tracker = None
            tracker.append(self)

    def feasible(self, demand: Mapping[str, int]) -> bool:
        """Whether the node could ever run `demand` (its totals suffice)."""
        total = self.total
        for k, v in demand.items():
            if total.get(k, 0) < v:
                return False
        gpus = demand.get("GPU")
        return gpus is None or self._gpu_fit(gpus, self.gpu_capacity) is not None

    def fits(self, demand: Mapping[str, int]) -> bool:
        """Whether `demand` fits in what is available now."""
        available = self.available
        for k, v in demand.items():
            if available.get(k, 0) < v:
                return False
        gpus = demand.get("GPU")
        return gpus is None or self._gpu_fit(gpus, self.gpu_free) is not None

    @staticmethod
    def _gpu_fit(units: int, free: list[int]) -> list[tuple[int, int]] | None:
        """The (instance, units) pairs that would serve a GPU demand, or None."""
        if units <= UNIT:
            best = -1
            for i, f in enumerate(free):
                if f >= units and (best < 0 or f < free[best]):
                    best = i
            return None if best < 0 else [(best, units)]
        whole = [i for i, f in enumerate(free) if f >= UNIT]
        need = units // UNIT
        return [(i, UNIT) for i in whole[:need]] if len(whole) >= need else None

    def allocate(self, demand: Mapping[str, int]) -> Sequence[tuple[int, int]]:
        """Take `demand` (which must fit); return the GPU instance shares taken."""
        available = self.available
        for k, v in demand.items():
            available[k] -= v
        if self.tracker is not None:
            self._changed()
        gpus = demand.get("GPU")
        if gpus is None:
            return NO_GPU_SHARES
        shares = self._gpu_fit(gpus, self.gpu_free)
        assert shares is not None, "allocate() called for a demand that does not fit"
        for i, u in shares:
            self.gpu_free[i] -= u
        return shares

    def release(self, demand: Mapping[str, int], gpu_shares: Sequence[tuple[int, int]]) -> None:
        """Give back what `allocate` took."""
        available = self.available
        for k, v in demand.items():
            available[k] += v
        for i, u in gpu_shares:
            self.gpu_free[i] += u
        if self.tracker is not None:
            self._changed()

    def shift_cpu(self, units: int) -> None:
        """Add `units` (negative: take them) to the free CPU without a demand: a task blocked
        in `get` lends its CPU back, and takes it again when it resumes (even past zero)."""
        self.available["CPU"] += units
        if self.tracker is not None:
            self._changed()

    def critical_utilization(self) -> float:
        """Max over CPU, memory and object store of the used fraction (Ray's hybrid score)."""
        worst = 0.0
        for k in CRITICAL:
            total = self.total.get(k, 0)
            if total > 0:
                used = 1.0 - self.available.get(k, 0) / total
                if used > worst:
                    worst = used
        return worst


_OBJECT_STORE_MINIMUM_MEMORY_BYTES = 75 * 1024 * 1024
_MAX_RESOURCE_QUANTITY = 100e12


def check_node_resources(
    num_cpus: Any,
    num_gpus: Any,
    resources: Any,
    object_store_memory: Any,
    default_memory: float,
    default_object_store_memory: float,
    ip: str = "127.0.0.1",
    head: bool = True,
) -> None:
    """Ray's checks of a node's resources at `init` (and `Cluster.add_node`), with its texts."""
    if resources is not None:
        for name, alternative in (("CPU", "num_cpus"), ("GPU", "num_gpus")):
            if name in resources:  # an explicit raise: pytest rewrites `assert` in simray
                raise AssertionError(
                    f"{resources} -> `{name}` cannot be a custom resource because it is one of the "
                    "default resources ({'CPU', 'GPU', 'memory', 'object_store_memory'}). Use "
                    f"`{alternative}` instead. For example, use `ray start "
                    f"--{alternative.replace('_', '-')}=1` instead of `ray start --resources="
                    f"{{'{name}': 1}}`"
                )
    if object_store_memory is not None and object_store_memory < (
        _OBJECT_STORE_MINIMUM_MEMORY_BYTES
    ):
        raise ValueError(
            f"Attempting to cap object store memory usage at {object_store_memory} bytes, but the "
            f"minimum allowed is {_OBJECT_STORE_MINIMUM_MEMORY_BYTES} bytes."
        )
    markers = {f"node:{ip}": 1.0, **({"node:__internal_head__": 1.0} if head else {})}
    table = dict(
        {**(resources or {}), **markers},
        CPU=8 if num_cpus is None else num_cpus,
        GPU=num_gpus or 0,
        memory=default_memory,
        object_store_memory=object_store_memory or default_object_store_memory,
    )
    table = {k: v for k, v in table.items() if v != 0}
    for name, qty in table.items():
        if not isinstance(qty, (int, float)):  # Ray's assert, as an explicit raise
            raise AssertionError(f"{name} ({type(qty)}): {qty}")
        if isinstance(qty, float) and not qty.is_integer():
            raise ValueError(
                f"Resource quantities must all be whole numbers. Violated by resource '{name}' "
                f"in {table}."
            )
        if qty < 0:
            raise ValueError(
                f"Resource quantities must be nonnegative. Violated by resource '{name}' in "
                f"{table}."
            )
        if qty > _MAX_RESOURCE_QUANTITY:
            raise ValueError(
                f"Resource quantities must be at most {_MAX_RESOURCE_QUANTITY}. Violated by "
                f"resource '{name}' in {table}."
            )
