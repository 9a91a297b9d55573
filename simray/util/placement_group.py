"""Placement groups with Ray's API (`ray.util.placement_group`): gang-reserved bundles."""

from __future__ import annotations

from typing import Any

from simray import _session
from simray._ray_ids import PlacementGroupID


class PlacementGroup:
    """A handle to a placement group; `ready()` resolves once every bundle is reserved."""

    def __init__(self, record: Any, bundles: list[dict[str, float]]):
        self._record = record
        self._bundles = [{k: float(v) for k, v in b.items()} for b in bundles]
        self.id = PlacementGroupID.from_hex(record.hex())

    @property
    def bundle_specs(self) -> list[dict[str, float]]:
        return [dict(b) for b in self._bundles]

    @property
    def bundle_count(self) -> int:
        return len(self._bundles)

    def ready(self) -> Any:
        """An ObjectRef resolving (to this group) once the group is created."""
        return self._record.ready_ref

    def wait(self, timeout_seconds: float | int = 30) -> bool:
        """Wait up to `timeout_seconds` for creation; True if created."""
        return _session.backend().wait_placement_group(self._record, timeout_seconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementGroup) and other._record is self._record

    def __hash__(self) -> int:
        return hash(self.id.hex())

    def __repr__(self) -> str:
        return f"PlacementGroup(id={self.id.hex()}, strategy={self._record.strategy})"


def placement_group(
    bundles: list[dict[str, float]],
    strategy: str = "PACK",
    name: str = "",
    lifetime: str | None = None,
    _soft_target_node_id: str | None = None,
    bundle_label_selector: Any = None,
) -> PlacementGroup:
    """Reserve `bundles` under `strategy` (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD); async."""
    if lifetime not in (None, "detached"):
        raise ValueError(
            "Placement group `lifetime` argument must be either `None` or 'detached'. "
            f"Got {lifetime}."
        )
    record = _session.backend().create_placement_group(bundles, strategy or "PACK", name)
    handle = PlacementGroup(record, bundles)
    record.handle = handle
    return handle


def remove_placement_group(placement_group: PlacementGroup) -> None:
    """Release a group's bundles; work still inside it fails."""
    _session.backend().remove_placement_group(placement_group._record)


def get_placement_group(placement_group_name: str) -> PlacementGroup:
    """The live group of this name."""
    for record in _session.backend().placement_groups():
        if record.name == placement_group_name and record.state != "REMOVED":
            return record.handle
    raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")


def placement_group_table(placement_group: PlacementGroup | None = None) -> dict[str, Any]:
    """State and bundles of one group, or of all groups keyed by id."""
    backend = _session.backend()
    if placement_group is not None:
        return backend.placement_group_table(placement_group._record)
    return {r.hex(): backend.placement_group_table(r) for r in backend.placement_groups()}


def get_current_placement_group() -> PlacementGroup | None:
    """The group the current task runs in, if any."""
    return _session.backend().current_placement_group()


__all__ = [
    "PlacementGroup",
    "get_current_placement_group",
    "get_placement_group",
    "placement_group",
    "placement_group_table",
    "remove_placement_group",
]
