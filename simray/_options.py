"""Option names, validation and resolution for remote functions and actors, as Ray's.

Validation runs once, where Ray runs it (decoration and `.options()`), so `.remote()` stays cheap:
it receives a `TaskOptions` with the demand already in fixed point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from simray._model.resources import UNIT, Demand, demand_from_options, to_units
from simray.util.scheduling_strategies import (
    NodeAffinitySchedulingStrategy,
    NodeLabelSchedulingStrategy,
    PlacementGroupSchedulingStrategy,
)

DEFAULT_TASK_MAX_RETRIES = 3
_NONE = type(None)
_STRATEGIES = (
    _NONE,
    str,
    PlacementGroupSchedulingStrategy,
    NodeAffinitySchedulingStrategy,
    NodeLabelSchedulingStrategy,
)


def _resource(name: str) -> Callable[[Any], str | None]:
    def check(x: Any) -> str | None:
        if x is None:
            return None
        try:
            to_units(name, x)
        except ValueError as e:
            return str(e)
        return None

    return check


def _counting(name: str, infinite: bool) -> Callable[[Any], str | None]:
    if infinite:
        return lambda x: (
            None
            if x is None or x >= -1
            else f"The keyword '{name}' only accepts None, 0, -1 or a positive integer, "
            "where -1 represents infinity."
        )
    return lambda x: (
        None
        if x is None or x >= 0
        else f"The keyword '{name}' only accepts None, 0 or a positive integer."
    )


def _check_resources(resources: Mapping[str, Any] | None) -> str | None:
    if resources is None:
        return None
    if "CPU" in resources or "GPU" in resources:
        return "Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' in 'resources' keyword"
    for reserved in ("memory", "object_store_memory", "bundle"):
        if reserved in resources:
            return (
                f"The resources dictionary must not contain the key '{reserved}'; "
                f"use the '{reserved}' option instead"
                if reserved != "bundle"
                else "The resources dictionary must not contain the reserved key 'bundle'"
            )
    for name, qty in resources.items():
        message = _resource(name)(qty)
        if message:
            return message
    return None


def _check_retry_exceptions(x: Any) -> str | None:
    if isinstance(x, bool) or (
        isinstance(x, (list, tuple))
        and all(isinstance(c, type) and issubclass(c, Exception) for c in x)
    ):
        return None
    return "retry_exceptions must be either a boolean or a list of exceptions"


def _check_num_returns(x: Any) -> str | None:
    if x is None or x in ("dynamic", "streaming") or (isinstance(x, int) and x >= 0):
        return None
    return (
        "Default None. When None is passed, The default value is 1 for a task and actor task, "
        "and 'streaming' for generator tasks and generator actor tasks. The keyword "
        "'num_returns' only accepts None, a non-negative integer, 'streaming' (for generators), "
        "or 'dynamic'. 'dynamic' flag will be deprecated in the future, and it is recommended "
        "to use 'streaming' instead."
    )


def _labels() -> Any:
    from simray._model import labels

    return labels


# name -> (types, value check or None); the order is Ray's, so error messages list it alike.
_COMMON: dict[str, tuple[Any, Callable[[Any], str | None] | None]] = {
    "label_selector": ((dict, _NONE), lambda x: _labels().check_selector(x)),
    "fallback_strategy": ((list, _NONE), lambda x: _labels().check_fallback_strategy(x)),
    "accelerator_type": ((str, _NONE), None),
    "memory": ((float, int, _NONE), _resource("memory")),
    "name": ((str, _NONE), None),
    "num_cpus": ((float, int, _NONE), _resource("num_cpus")),
    "num_gpus": ((float, int, _NONE), _resource("num_gpus")),
    "object_store_memory": ((int, _NONE), _counting("object_store_memory", False)),
    "placement_group": ((_NONE, str, object), None),
    "placement_group_bundle_index": ((int,), None),
    "placement_group_capture_child_tasks": ((bool, _NONE), None),
    "resources": ((dict, _NONE), _check_resources),
    "runtime_env": ((dict, _NONE), None),
    "scheduling_strategy": (_STRATEGIES, None),
    "enable_task_events": ((bool,), None),
    "_labels": ((dict, _NONE), None),
}
_TASK_ONLY: dict[str, tuple[Any, Callable[[Any], str | None] | None]] = {
    "max_calls": ((int, _NONE), _counting("max_calls", False)),
    "max_retries": ((int, _NONE), _counting("max_retries", True)),
    "num_returns": ((int, str, _NONE), _check_num_returns),
    "object_store_memory": (
        (int, _NONE),
        lambda x: (
            None if x is None else "Setting 'object_store_memory' is not implemented for tasks"
        ),
    ),
    "retry_exceptions": ((bool, list, tuple), _check_retry_exceptions),
    "_generator_backpressure_num_objects": ((int, _NONE), None),
    "_num_objects_per_yield": ((int, _NONE), None),
}
_ACTOR_ONLY: dict[str, tuple[Any, Callable[[Any], str | None] | None]] = {
    "concurrency_groups": ((list, dict, _NONE), None),
    "enable_tensor_transport": ((bool, _NONE), None),
    "lifetime": (
        (str, _NONE),
        lambda x: (
            None
            if x in (None, "detached", "non_detached")
            else "actor `lifetime` argument must be one of 'detached', 'non_detached' and 'None'."
        ),
    ),
    "max_concurrency": ((int, _NONE), _counting("max_concurrency", False)),
    "max_restarts": ((int, _NONE), _counting("max_restarts", True)),
    "max_task_retries": ((int, _NONE), _counting("max_task_retries", True)),
    "max_pending_calls": ((int, _NONE), _counting("max_pending_calls", True)),
    "namespace": ((str, _NONE), None),
    "get_if_exists": ((bool,), None),
    "allow_out_of_order_execution": ((bool, _NONE), None),
    "_actor_generator_backpressure_num_objects": ((int, _NONE), None),
}
TASK_OPTIONS = {**_COMMON, **_TASK_ONLY}
ACTOR_OPTIONS = {**_COMMON, **_ACTOR_ONLY}
VALID_OPTIONS = {**_TASK_ONLY, **_ACTOR_ONLY, **_COMMON}
# Ray's `valid_options` order: its task-only table also overrides `num_cpus` (after
# `max_retries`), so that key comes before the actor-only and common ones.
_VALID_ORDER = list(_TASK_ONLY)
_VALID_ORDER.insert(_VALID_ORDER.index("max_retries") + 1, "num_cpus")
_VALID_ORDER += [k for k in {**_ACTOR_ONLY, **_COMMON} if k not in _VALID_ORDER]
# Ray's `remote_args_error_string` (an AssertionError in Ray 2.60), listing those options.
REMOTE_ARGS_ERROR = (
    "The @ray.remote decorator must be applied either with no arguments and no parentheses, "
    "for example '@ray.remote', or it must be applied using some of the arguments in the list "
    f"{_VALID_ORDER}, for example "
    "'@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'."
)


def validate_namespace(namespace: Any) -> None:
    """Ray's `validate_namespace`: a non-empty string (None is checked by the caller)."""
    if not isinstance(namespace, str):
        raise TypeError("namespace must be None or a string.")
    if namespace == "":
        raise ValueError('"" is not a valid namespace. Pass None to not specify a namespace.')


def _validate(options: Mapping[str, Any], table: Mapping[str, Any], what: str) -> None:
    for key, value in options.items():
        if key not in table:
            raise ValueError(
                f"Invalid option keyword {key} for {what}. Valid ones are {list(table)}."
            )
        types, check = table[key]
        if not isinstance(value, types):
            raise TypeError(
                f"The type of keyword '{key}' must be {types}, but received type {type(value)}"
            )
        if check is not None:
            message = check(value)
            if message:
                raise ValueError(message)
    if options.get("placement_group") not in (None, "default") and options.get(
        "scheduling_strategy"
    ):
        raise ValueError(
            "Placement groups should be specified via the scheduling_strategy option. "
            "The placement_group option is deprecated."
        )


def validate_task_options(options: Mapping[str, Any], in_options: bool) -> None:
    """Check task options as Ray does, with Ray's messages."""
    _validate(options, TASK_OPTIONS, "remote functions")
    if in_options and "max_calls" in options:
        raise ValueError("Setting 'max_calls' is not supported in '.options()'.")


def validate_actor_options(options: Mapping[str, Any], in_options: bool) -> None:
    """Check actor options as Ray does, with Ray's messages."""
    _validate(options, ACTOR_OPTIONS, "actors")
    if in_options and "concurrency_groups" in options:
        raise ValueError("Setting 'concurrency_groups' is not supported in '.options()'.")
    if options.get("get_if_exists") and not options.get("name"):
        raise ValueError("The actor name must be specified to use `get_if_exists`.")


class TaskOptions:
    """What a backend needs to run one remote function, resolved once per `.options()`."""

    __slots__ = (
        "raw",
        "name",
        "demand",
        "num_returns",
        "max_retries",
        "retry_exceptions",
        "strategy",
        "submit_error",  # a ValueError that Ray raises only at .remote()
        "generator",  # "streaming" or "dynamic" for a generator task, else None
        "env_vars",  # runtime_env["env_vars"], validated
        "backpressure",
        "sched_key",
        "label_selector",  # parsed conditions (simray._model.labels), or None
        "simple",  # one return, default strategy, no generator, env_vars or error: fast paths
    )

    def __init__(self, raw: dict[str, Any], default_name: str, is_generator: bool = False):
        self.raw = raw
        self.name: str = raw.get("name") or default_name
        self.demand: Demand = demand_from_options(
            raw.get("num_cpus"),
            raw.get("num_gpus"),
            raw.get("resources"),
            raw.get("memory"),
            raw.get("accelerator_type"),
            default_cpus=1,
        )
        num_returns = raw.get("num_returns")
        if num_returns is None and is_generator:
            num_returns = "streaming"  # Ray's default for generator functions
        self.generator: str | None = num_returns if isinstance(num_returns, str) else None
        self.backpressure: int | None = raw.get("_generator_backpressure_num_objects")
        from simray._runtime_env import env_vars_of

        self.env_vars = env_vars_of(raw.get("runtime_env"))
        self.num_returns: int = (
            1 if num_returns is None or self.generator is not None else num_returns
        )
        max_retries = raw.get("max_retries")
        self.max_retries: int = DEFAULT_TASK_MAX_RETRIES if max_retries is None else max_retries
        retry = raw.get("retry_exceptions", False)
        self.retry_exceptions: bool | tuple[type, ...] = (
            tuple(retry) if isinstance(retry, (list, tuple)) else retry
        )
        strategy = raw.get("scheduling_strategy")
        self.strategy: Any = None if is_default_strategy(strategy) else strategy
        selector = raw.get("label_selector")
        self.label_selector = _labels().parse(selector) if selector else None
        if isinstance(strategy, str) and strategy not in ("DEFAULT", "SPREAD"):
            # Ray checks this at .remote(), in its core worker.
            self.submit_error = (
                f"Invalid scheduling_strategy value {strategy}. Valid values are "
                '["DEFAULT" | "SPREAD" | PlacementGroupSchedulingStrategy | '
                "NodeAffinitySchedulingStrategy]"
            )
            self.sched_key = None
            self.simple = False
            return
        gpus = self.demand.get("GPU", 0)
        # Ray accepts num_gpus=1.5 at decoration and refuses it at .remote() (in its core worker).
        self.submit_error: str | None = (
            "GPU resource quantities >1 must be whole numbers. The specified quantity "
            f"{raw.get('num_gpus')} is invalid."
            if gpus > UNIT and gpus % UNIT
            else None
        )
        # Tasks of one scheduling class queue FIFO behind each other, as in the raylet.
        self.sched_key = SchedulingClass.of(
            tuple(sorted(self.demand.items())),
            _strategy_key(self.strategy),
            *((self.label_selector,) if self.label_selector else ()),
        )
        # A call of it needs nothing but its demand and the default policy (a backend may take
        # a shorter path for such calls; see `_sim.backend.SimBackend.submit_task`).
        self.simple = (
            self.num_returns == 1
            and self.generator is None
            and self.env_vars is None
            and self.strategy is None
            and self.label_selector is None
            and self.submit_error is None
        )


class SchedulingClass:
    """A scheduling class (demand, strategy key, label selector) as one interned object.

    Tasks of a class queue FIFO behind each other, and the queue is looked up by class at every
    submission and end; interned, a class hashes and compares by identity (a pointer), where
    a tuple of tuples would be hashed anew at every lookup. `of` is the only constructor.
    """

    __slots__ = ("demand", "rest", "__weakref__")

    def __init__(self, demand: tuple[tuple[str, int], ...], rest: tuple[Any, ...]):
        self.demand = demand  # sorted (resource, units) pairs
        self.rest = rest  # the strategy's key, then the label selector if any

    @staticmethod
    def of(demand: tuple[tuple[str, int], ...], *rest: Any) -> SchedulingClass:
        """The one class of `demand` and `rest` (the same object for equal arguments while it
        is in use; kept weakly, so classes of discarded strategies do not pile up)."""
        interned = _interned()
        key = (demand, rest)
        found = interned.get(key)
        if found is None:
            found = interned[key] = SchedulingClass(demand, rest)
        return found

    def __repr__(self) -> str:
        return f"SchedulingClass{(self.demand, *self.rest)!r}"


@functools.cache
def _interned() -> Any:
    import weakref  # on first use: `import simray` stays without it

    return weakref.WeakValueDictionary()


def is_default_strategy(strategy: Any) -> bool:
    """ "DEFAULT", or a placement group strategy without a group (Ray schedules those normally)."""
    return strategy == "DEFAULT" or (
        isinstance(strategy, PlacementGroupSchedulingStrategy) and not strategy.placement_group
    )


def _strategy_key(strategy: Any) -> Any:
    if isinstance(strategy, NodeAffinitySchedulingStrategy):
        return ("affinity", strategy.node_id, strategy.soft, strategy._spill_on_unavailable)
    if strategy is None or isinstance(strategy, str):
        return strategy
    return ("strategy", id(strategy))
