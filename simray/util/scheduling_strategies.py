"""Scheduling strategies with Ray's names, arguments and validation (`ray.util.scheduling_strategies`)."""

from __future__ import annotations

from typing import Any

_NODE_ID_HEX_LEN = 56


class PlacementGroupSchedulingStrategy:
    """Run a task or actor in a placement group's bundle (`-1`: any bundle)."""

    def __init__(
        self,
        placement_group: Any,
        placement_group_bundle_index: int = -1,
        placement_group_capture_child_tasks: bool | None = None,
    ):
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks


class NodeAffinitySchedulingStrategy:
    """Run a task or actor on one node: `soft=False` fails if the node is gone or infeasible."""

    def __init__(
        self,
        node_id: str,
        soft: bool,
        _spill_on_unavailable: bool = False,
        _fail_on_unavailable: bool = False,
    ):
        if not isinstance(node_id, str):
            node_id = node_id.hex()
        self.node_id = node_id
        self.soft = soft
        self._spill_on_unavailable = _spill_on_unavailable
        self._fail_on_unavailable = _fail_on_unavailable
        self._validate_attributes()

    def _validate_attributes(self) -> None:
        try:
            value = int(self.node_id, 16)
            valid = len(self.node_id) == _NODE_ID_HEX_LEN and value != 0
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(
                f"Invalid node_id '{self.node_id}'. Node ID must be a valid hex string. To get a "
                "list of all nodes and their IDs in your cluster, use ray.nodes()."
            )
        if self._spill_on_unavailable and not self.soft:
            raise ValueError(
                "_spill_on_unavailable cannot be set when soft is False. Please set soft to True "
                "to use _spill_on_unavailable."
            )
        if self._fail_on_unavailable and self.soft:
            raise ValueError(
                "_fail_on_unavailable cannot be set when soft is True. Please set soft to False "
                "to use _fail_on_unavailable."
            )


def _check_values(values: tuple[Any, ...], operator: str) -> None:
    if not values:
        raise ValueError(
            f"The variadic parameter of the {operator} operator must be a non-empty tuple: "
            f'e.g. {operator}("value1", "value2").'
        )
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(
                f"Type of value in position {index} for the {operator} operator must be str "
                f'(e.g. {operator}("value1", "value2")) but got {value} of type {type(value)}.'
            )


class In:
    """Label value is one of the given values."""

    def __init__(self, *values: str):
        _check_values(values, "In")
        self.values = list(values)


class NotIn:
    """Label value is none of the given values."""

    def __init__(self, *values: str):
        _check_values(values, "NotIn")
        self.values = list(values)


class Exists:
    """Label is present."""


class DoesNotExist:
    """Label is absent."""


class NodeLabelSchedulingStrategy:
    """Run on nodes whose labels match `hard` (required) and preferably `soft`."""

    def __init__(self, hard: dict[str, Any], *, soft: dict[str, Any] | None = None):
        self.hard = hard
        self.soft = soft or {}


__all__ = [
    "DoesNotExist",
    "Exists",
    "In",
    "NodeAffinitySchedulingStrategy",
    "NodeLabelSchedulingStrategy",
    "NotIn",
    "PlacementGroupSchedulingStrategy",
]
