"""`@remote` on a class: `ActorClass`, `ActorHandle` and `ActorMethod`, backend-neutral."""

from __future__ import annotations

import functools
from typing import Any

from simray import _session
from simray._model import labels
from simray._model.resources import Demand, demand_from_options
from simray._options import is_default_strategy, validate_actor_options, validate_namespace

DEFAULT_ASYNC_CONCURRENCY = 1000


class ActorOptions:
    """What a backend needs to create one actor, resolved once per `.options()`."""

    def __init__(self, raw: dict[str, Any], cls: type):
        self.raw = raw
        self.class_name = cls.__name__
        self.name: str | None = raw.get("name")
        self.namespace: str | None = raw.get("namespace")
        self.get_if_exists: bool = raw.get("get_if_exists", False)
        self.lifetime = raw.get("lifetime")
        import inspect  # here, not at module level: `import simray` need not load it

        self.is_async = any(
            inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
            for _, m in inspect.getmembers(cls, inspect.isfunction)
        )
        concurrency = raw.get("max_concurrency")
        self.max_concurrency: int = (
            concurrency
            if concurrency is not None
            else (DEFAULT_ASYNC_CONCURRENCY if self.is_async else 1)
        )
        self.groups: dict[str, int] = _check_groups(raw.get("concurrency_groups"))
        # method name -> its `@method(concurrency_group=...)`; a call of any other method runs
        # in the default group, whose limit is `max_concurrency`
        self.method_groups: dict[str, str] = {
            name: group
            for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if isinstance(
                group := getattr(fn, "__ray_method_options__", {}).get("concurrency_group"), str
            )
        }
        self.max_restarts: int = raw.get("max_restarts") or 0
        self.max_task_retries: int = raw.get("max_task_retries") or 0
        # Ray: an actor that names no resource needs 1 CPU to be placed and holds none while it
        # lives; one that names any resource holds it (CPU defaulting to 1) for its life.
        named = any(
            raw.get(k) is not None
            for k in ("num_cpus", "num_gpus", "resources", "accelerator_type")
        )
        self.lifetime_demand: Demand = demand_from_options(
            raw.get("num_cpus"),
            raw.get("num_gpus"),
            raw.get("resources"),
            raw.get("memory"),
            raw.get("accelerator_type"),
            default_cpus=1 if named else 0,
        )
        self.placement_demand: Demand = (
            self.lifetime_demand if named else {"CPU": 10_000, **self.lifetime_demand}
        )
        strategy = raw.get("scheduling_strategy")
        self.strategy: Any = None if is_default_strategy(strategy) else strategy
        selector = raw.get("label_selector")
        # parsed conditions (simray._model.labels) that the creation task's node must match
        self.label_selector: Any = labels.parse(selector) if selector else None
        self.sched_key = ("actor", tuple(sorted(self.placement_demand.items())), id(self))

    def call_group(self, method: str, concurrency_group: str | None) -> str | None:
        """The concurrency group a call of `method` runs in (None: the default group), from
        `.options(concurrency_group=)` or the method's `@method(concurrency_group=)`."""
        if self.groups:
            group = concurrency_group or self.method_groups.get(method)
            if group is not None and group not in self.groups:
                raise ValueError(
                    f"concurrency_group={group!r} is not a concurrency group of "
                    f"{self.class_name} (declared: {sorted(self.groups)}); pick one of those"
                )
            return group
        if concurrency_group is not None:
            raise ValueError(
                f"concurrency_group={concurrency_group!r}, but {self.class_name} declares no "
                f"concurrency groups; declare it in @remote(concurrency_groups={{...}})"
            )
        return None

    def group_limit(self, group: str | None) -> int:
        """How many calls of `group` may run at once (the default group: max_concurrency)."""
        return self.max_concurrency if group is None else self.groups[group]


class ActorClass:
    """A class whose instances live in the cluster; create one with `.remote(...)`."""

    def __init__(self, cls: type, options: dict[str, Any]):
        validate_actor_options(options, in_options=False)
        self._cls = cls
        self._default_options = options
        self._resolved = ActorOptions(options, cls)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__doc__ = cls.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of '{self._cls.__name__}()', "
            f"use '{self._cls.__name__}.remote()'."
        )

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        """Create the actor; returns its handle at once (creation is asynchronous)."""
        _check_init_args(self._cls, args, kwargs)
        _check_name(self._resolved)
        _check_method_groups(self._resolved)
        return _session.backend().create_actor(self._cls, args, kwargs, self._resolved)

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """A `ray.dag` node creating this actor (once per `.execute()`)."""
        from simray.dag import ClassNode

        return ClassNode(self, args, kwargs)

    def options(self, **actor_options: Any) -> _BoundActorOptions:
        """The same class with some creation options overridden."""
        validate_actor_options(actor_options, in_options=True)
        merged = {**self._default_options, **actor_options}
        return _BoundActorOptions(self._cls, ActorOptions(merged, self._cls))


class _BoundActorOptions:
    def __init__(self, cls: type, resolved: ActorOptions):
        self._cls = cls
        self._resolved = resolved

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        _check_init_args(self._cls, args, kwargs)
        _check_name(self._resolved)
        _check_method_groups(self._resolved)
        return _session.backend().create_actor(self._cls, args, kwargs, self._resolved)

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        from simray.dag import ClassNode

        return ClassNode(self, args, kwargs)


def _check_name(resolved: ActorOptions) -> None:
    """Ray checks an actor's name and namespace at `.remote()`, not at `.options()`."""
    if resolved.name == "":
        raise ValueError("Actor name cannot be an empty string.")
    if resolved.namespace is not None:
        validate_namespace(resolved.namespace)


def _check_groups(groups: Any) -> dict[str, int]:
    """`concurrency_groups=` must map group names to positive thread/coroutine counts."""
    if groups is None:
        return {}
    if not isinstance(groups, dict):
        raise TypeError(
            f"concurrency_groups must be a dict of group name to max concurrency, such as "
            f"{{'io': 2}}; got {groups!r}"
        )
    for name, limit in groups.items():
        if not isinstance(name, str) or type(limit) is not int:
            raise TypeError(
                f"concurrency_groups maps a group name (str) to its max concurrency (int); got "
                f"{name!r}: {limit!r}"
            )
        if limit < 1:
            raise ValueError(
                f"concurrency group {name!r} has max concurrency {limit}; it must be at least 1"
            )
    return dict(groups)


def _check_method_groups(opts: ActorOptions) -> None:
    """Ray asserts at creation that every `@method(concurrency_group=)` names a declared group."""
    for method, group in opts.method_groups.items():
        if group not in opts.groups:
            raise AssertionError(
                f"{opts.class_name}.{method} has concurrency_group={group!r}, which the actor "
                f"does not declare; declare it in @remote(concurrency_groups={{...}}) (declared: "
                f"{sorted(opts.groups)})"
            )


@functools.lru_cache(maxsize=1024)
def _init_signature(init: Any) -> Any:
    """The signature of a constructor, computed once per class (it costs ~100 µs)."""
    import inspect

    try:
        return inspect.signature(init)
    except (TypeError, ValueError):  # a builtin __init__ without a signature: nothing to check
        return None


@functools.lru_cache(maxsize=1024)
def _bare_init_error(init: Any) -> str | None:
    """Why a constructor cannot be called without arguments (None if it can): the common
    `.remote()` of many actors binds no arguments, so this is worked out once per class."""
    signature = _init_signature(init)
    if signature is None:
        return None
    try:
        signature.bind(None)
    except TypeError as e:
        return str(e)
    return None


def _check_init_args(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Ray binds the constructor's arguments at `.remote()`: a mismatch is a TypeError there."""
    init = cls.__init__
    if not args and not kwargs:
        try:
            error = _bare_init_error(init)
        except TypeError:  # an unhashable __init__: take the general path
            pass
        else:
            if error is not None:
                raise TypeError(f"{cls.__name__}.__init__(): {error}")
            return
    try:
        signature = _init_signature(init)
    except TypeError:  # an unhashable __init__: compute it each time
        signature = _init_signature.__wrapped__(init)
    if signature is None:
        return
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{cls.__name__}.__init__(): {e}") from None


class ActorHandle:
    """A handle to a live actor: `handle.method.remote(...)` submits a call."""

    def __init__(self, actor: Any, cls: type):
        self._actor = actor  # the backend's actor record
        self._cls = cls

    @property
    def _actor_id(self) -> Any:
        """The actor's `ActorID` (Ray's handles carry it as `_actor_id`)."""
        from simray._ray_ids import ActorID

        return ActorID.from_hex(self._actor.hex())

    def __getattr__(self, name: str) -> ActorMethod:
        if name.startswith("__") and name not in ("__ray_terminate__", "__ray_ready__"):
            raise AttributeError(name)
        method = getattr(self._cls, name, None)
        if name not in ("__ray_terminate__", "__ray_ready__") and not callable(method):
            raise AttributeError(f"'ActorHandle' object has no attribute '{name}'")
        default = "streaming" if _is_generator(method) else 1  # as Ray, for generator methods
        num_returns = getattr(method, "__ray_method_options__", {}).get("num_returns", default)
        return ActorMethod(self, name, num_returns)

    def __repr__(self) -> str:
        return f"Actor({self._cls.__name__}, {self._actor.hex()})"

    def __reduce__(self) -> Any:
        raise TypeError(
            "an ActorHandle of the sim backend cannot be pickled outside a simray session; pass "
            "it to tasks and actors as an argument instead"
        )


# The keywords of Ray 2.60's `ActorMethod._remote` (what `.options(...)` forwards to it).
_METHOD_CALL_OPTIONS = frozenset(
    {
        "name",
        "num_returns",
        "max_task_retries",
        "retry_exceptions",
        "concurrency_group",
        "_generator_backpressure_num_objects",
        "_num_objects_per_yield",
        "enable_task_events",
        "tensor_transport",
        "_labels",
    }
)


class ActorMethod:
    """One method of an actor handle; `.remote()` calls it, `.options()` overrides options."""

    def __init__(self, handle: ActorHandle, name: str, num_returns: int, group: str | None = None):
        self._handle = handle
        self._name = name
        self._num_returns = num_returns
        self._group = group  # `.options(concurrency_group=...)`; None: the method's own group
        self._unexpected: str | None = None  # an option `.remote()` rejects, as Ray's does

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actor methods cannot be called directly. Instead of running "
            f"'object.{self._name}()', try 'object.{self._name}.remote()'."
        )

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        if self._unexpected is not None:
            raise TypeError(
                f"ActorMethod._remote() got an unexpected keyword argument '{self._unexpected}'"
            )
        backend = _session.backend()
        if self._group is not None:
            return backend.submit_actor_task(
                self._handle._actor,
                self._name,
                args,
                kwargs,
                self._num_returns,
                concurrency_group=self._group,
            )
        return backend.submit_actor_task(
            self._handle._actor, self._name, args, kwargs, self._num_returns
        )

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """A `ray.dag` node calling this method."""
        from simray.dag import ClassMethodNode

        return ClassMethodNode(self._handle, self._name, args, kwargs)

    def options(self, **options: Any) -> ActorMethod:
        num_returns = options.get("num_returns")
        if isinstance(num_returns, int) and num_returns < 0:
            raise ValueError(f"num_returns must be >= 0, but got {num_returns}.")
        if "_num_objects_per_yield" in options:
            raise ValueError(
                "_num_objects_per_yield cannot be overridden per actor method call. Use "
                "@ray.method(_num_objects_per_yield=...) instead."
            )
        group = options.get("concurrency_group", self._group)
        if group is not None and not isinstance(group, str):
            raise TypeError(f"concurrency_group must be a group name (str); got {group!r}")
        method = ActorMethod(
            self._handle, self._name, options.get("num_returns", self._num_returns), group
        )
        # Like Ray, `.options` takes any keyword and `.remote()` rejects one its `_remote`
        # does not have; the accepted ones simray does not model (retries per call, task
        # events, tensor transport, labels) are accepted and have no effect.
        method._unexpected = next((k for k in options if k not in _METHOD_CALL_OPTIONS), None)
        return method


def _is_generator(fn: Any) -> bool:
    """A generator function (CO_GENERATOR) or async generator (CO_ASYNC_GENERATOR)."""
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & (0x20 | 0x200))
