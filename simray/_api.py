"""Ray's top-level functions (`init`, `get`, `wait`, `put`, ...) over the active backend."""

from __future__ import annotations

import math
from collections.abc import Callable
from types import FunctionType
from typing import Any

from simray import _session
from simray._actor import ActorClass, ActorHandle
from simray._generator import ObjectRefGenerator
from simray._object_ref import ObjectRef
from simray._options import REMOTE_ARGS_ERROR, validate_namespace
from simray._remote_function import RemoteFunction
from simray.runtime_context import RuntimeContext as RuntimeContext
from simray.runtime_context import get_runtime_context as get_runtime_context

_RAY_INIT_ARGS = frozenset(
    {
        "include_dashboard",
        "dashboard_host",
        "dashboard_port",
        "job_config",
        "configure_logging",
        "logging_level",
        "logging_format",
        "logging_config",
        "log_to_driver",
        "runtime_env",
        "enable_resource_isolation",
        "cgroup_path",
        "system_reserved_cpu",
        "system_reserved_memory",
        "proxy_server_url",
    }
)


# init() keywords the sim backend reads (the latency model, Ray's log_to_driver, ...).
_SIM_OPTIONS = frozenset({"_latency", "_livelock_seconds"})


class _InitInfo(dict):  # type: ignore[type-arg]
    """What `init` returns: Ray's RayContext is a mapping with `address_info`-like keys."""

    def __enter__(self) -> _InitInfo:
        return self

    def __exit__(self, *exc: Any) -> None:
        shutdown()


def init(
    address: str | None = None,
    *,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    labels: dict[str, str] | None = None,
    object_store_memory: int | None = None,
    local_mode: bool = False,
    ignore_reinit_error: bool = False,
    namespace: str | None = None,
    backend: str | None = None,
    seed: int | None = None,
    trace: str | None = None,
    cluster: Any = None,
    explore: bool | None = None,
    jitter: float | None = None,
    **kwargs: Any,
) -> _InitInfo:
    """Start a session, as `ray.init`; `backend` picks sim (default), ray, or local.

    On `sim`, a bare `init()` makes one node of 8 CPUs whatever the host has; `seed` (or
    `SIMRAY_SEED`) seeds the one RNG of the run; `trace` (or `SIMRAY_TRACE`) names a file for the
    JSON-lines trace. `cluster` (sim only) is an autoscaling cluster spec: a `.toml`/`.yaml`
    path, a dict or a ClusterSpec; the session starts with its head node and Ray's autoscaler
    adds and removes workers in virtual time. Ray's other arguments are accepted and ignored
    where they mean nothing.

    Schedule exploration (sim only; `local` and `ray` race for real and ignore both, so one test
    runs on every backend): `explore` orders simultaneous events by the seed (None, the default,
    or `SIMRAY_EXPLORE`: on for any seed but 0; False keeps the scheduled order for every seed);
    `jitter` (or `SIMRAY_JITTER`) delays task starts, argument arrivals and actor call
    deliveries by up to that many virtual seconds, drawn from the seed, while exploring.
    """
    _check_exploration(explore, jitter)
    unknown = [k for k in kwargs if k not in _RAY_INIT_ARGS and not k.startswith("_")]
    if unknown:
        raise RuntimeError(f"Unknown keyword argument(s): {', '.join(unknown)}")
    if local_mode:
        raise RuntimeError(
            "`local_mode` is no longer supported. For interactive debugging consider using the "
            "Ray distributed debugger."
        )
    if _session.active() is not None:
        if ignore_reinit_error:
            return _InitInfo(backend=_session.active().name)
        raise RuntimeError(
            "Maybe you called ray.init twice by accident? This error can be suppressed by passing "
            "in 'ignore_reinit_error=True' or by calling 'ray.shutdown()' prior to 'ray.init()'."
        )
    name = _session.resolve_backend_name(backend)
    if name == "ray":
        if cluster is not None:
            raise ValueError(
                "init(cluster=...) runs Ray's autoscaler on the sim backend only; on real Ray, "
                "start the cluster with `ray up` or ray.cluster_utils.AutoscalingCluster"
            )
        _session.init(
            "ray",
            address=address,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            resources=resources,
            labels=labels,
            object_store_memory=object_store_memory,
            namespace=namespace,
            **kwargs,
        )
        return _InitInfo(backend="ray")
    from simray._model.labels import check_node_labels

    check_node_labels(labels)

    sim_cluster = None
    if address is not None or cluster is not None:  # (a cluster exists only once this is imported)
        from simray import cluster as _cluster

        sim_cluster = _cluster.find(address)
    if cluster is not None:
        if sim_cluster is not None:
            raise ValueError(
                f"init() got both cluster= and the address of a cluster ({address!r}); give one"
            )
        sim_cluster = _cluster.AutoscalingCluster.from_spec(cluster)
    if sim_cluster is not None:
        if num_cpus is not None or num_gpus is not None:
            raise ValueError(
                "When connecting to an existing cluster, num_cpus and num_gpus must not be "
                "provided."
            )
        for arg, value in (
            ("resources", resources),
            ("labels", labels),
            ("object_store_memory", object_store_memory),
        ):
            if value is not None:
                raise ValueError(
                    f"When connecting to an existing cluster, {arg} must not be provided."
                )
        node_specs: Any = sim_cluster.node_specs()
    elif address not in (None, "local"):
        raise ConnectionError(
            f"no simulated cluster at address {address!r}: on the sim backend, address must come "
            "from simray.cluster.Cluster(...).address, or be None/'local'"
        )
    else:
        node_specs = None
    if namespace is not None and not isinstance(namespace, str):
        raise TypeError("namespace must be None or a string.")
    session = _session.init(
        name,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        resources=resources,
        object_store_memory=object_store_memory,
        labels=labels,
        node_specs=node_specs,
        seed=seed,
        trace_path=trace,
        namespace=namespace,
        **({"explore": explore, "jitter": jitter} if name == "sim" else {}),
        **({k: v for k, v in kwargs.items() if k in _SIM_OPTIONS} if name == "sim" else {}),
        **(
            {"log_to_driver": kwargs["log_to_driver"]}
            if kwargs.get("log_to_driver") is not None and name in ("sim", "local")
            else {}
        ),
        **(
            {"runtime_env": kwargs["runtime_env"]}
            if kwargs.get("runtime_env") and name in ("sim", "local")
            else {}
        ),
    )
    if sim_cluster is not None:
        sim_cluster._attach(session)
    return _InitInfo(backend=name, address=address or "local", namespace=session.namespace)


def _check_exploration(explore: Any, jitter: Any) -> None:
    if explore is not None and not isinstance(explore, bool):
        raise TypeError(
            f"init(explore=...) must be True, False or None (None: explore for any seed but 0), "
            f"got {explore!r}"
        )
    if jitter is None:
        return
    number = isinstance(jitter, int | float) and not isinstance(jitter, bool)
    if not number or not math.isfinite(jitter) or jitter < 0:
        raise ValueError(
            f"init(jitter=...) must be a finite number of virtual seconds >= 0 (0 or None turns "
            f"jitter off), got {jitter!r}"
        )


def shutdown(*args: Any, **kwargs: Any) -> None:
    """End the session; virtual time and patched modules go back to normal."""
    _session.shutdown()


def is_initialized() -> bool:
    """Whether a session is up."""
    return _session.active() is not None


def remote(*args: Any, **options: Any) -> Any:
    """`@remote` or `@remote(**options)` on a function (or, later, a class)."""
    if len(args) == 1 and not options and callable(args[0]):
        return _make_remote(args[0], {})
    if args or not options:
        raise AssertionError(REMOTE_ARGS_ERROR)  # Ray 2.60 asserts here, with this text
    return lambda target: _make_remote(target, options)


def _make_remote(target: Any, options: dict[str, Any]) -> Any:
    if isinstance(target, type):
        return ActorClass(target, options)
    if isinstance(target, FunctionType) or _is_cython(target):
        return RemoteFunction(target, options)
    # Ray's rule: Python functions and Cython functions only (a builtin, a partial or a
    # callable object is refused), with Ray's text.
    raise TypeError("The @ray.remote decorator must be applied to either a function or a class.")


def _is_cython(target: Any) -> bool:
    """Ray's `is_cython`: a Cython function or method (Ray documents Cython code in tasks)."""
    name = "cython_function_or_method"
    return type(target).__name__ == name or type(getattr(target, "__func__", None)).__name__ == name


# Ray 2.60's `@ray.method` keywords, in its order (its error messages list them so).
_METHOD_KWARGS = [
    "num_returns",
    "concurrency_group",
    "max_task_retries",
    "retry_exceptions",
    "_generator_backpressure_num_objects",
    "_num_objects_per_yield",
    "enable_task_events",
    "tensor_transport",
]


def method(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
    """`@method(num_returns=...)` on an actor method: records the options on the function."""

    def decorate(fn: Any) -> Any:
        num_returns = kwargs.get("num_returns")
        if isinstance(num_returns, int) and num_returns < 0:
            raise ValueError(f"num_returns must be >= 0, but got {num_returns}.")
        fn.__ray_method_options__ = kwargs
        if "concurrency_group" in kwargs:  # where real Ray looks, for the ray backend
            fn.__ray_concurrency_group__ = kwargs["concurrency_group"]
        return fn

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])  # bare `@method`, as Ray accepts
    # Ray 2.60 checks these with `assert`, so they are AssertionErrors there too.
    if args:
        raise AssertionError(
            "The @ray.method decorator must be applied using no arguments or at least one of "
            f"the arguments in the list {_METHOD_KWARGS}, for example "
            "'@ray.method(num_returns=2)'."
        )
    for key in kwargs:
        if key not in _METHOD_KWARGS:
            raise AssertionError(
                f"Unexpected keyword argument to @ray.method: '{key}'. The supported keyword "
                f"arguments are {_METHOD_KWARGS}"
            )
    return decorate


def get(object_refs: Any, *, timeout: float | None = None) -> Any:
    """The value(s) of one ref or a list of refs, in input order; raises the first error."""
    if isinstance(object_refs, ObjectRefGenerator):
        return object_refs  # as Ray 2.60 does
    if timeout is not None and timeout < 0:
        timeout = None  # Ray waits without limit for a negative timeout (unlike wait())
    return _session.backend().get(object_refs, timeout)


def wait(
    ray_waitables: list[Any],
    *,
    num_returns: int = 1,
    timeout: float | None = None,
    fetch_local: bool = True,
) -> tuple[list[Any], list[Any]]:
    """Split refs into (ready, not ready), both in input order, at most `num_returns` ready.

    When more than `num_returns` are ready, simray returns the first ones in input order (Ray
    makes no promise about which).
    """
    session = _session.backend()
    if session.name == "ray":
        return session.wait(ray_waitables, num_returns, timeout, fetch_local)
    if isinstance(ray_waitables, ObjectRef):
        raise TypeError(
            "wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got a single "
            f"ray.ObjectRef or ray.ObjectRefGenerator {ray_waitables}"
        )
    if not isinstance(ray_waitables, list):
        raise TypeError(
            "wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got "
            f"{type(ray_waitables)}"
        )
    if timeout is not None and timeout < 0:
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    generators = False
    for item in ray_waitables:
        if isinstance(item, ObjectRefGenerator):
            generators = True
        elif not isinstance(item, ObjectRef):
            raise TypeError(
                "wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got list "
                f"containing {type(item)}"
            )
    if not ray_waitables:
        return [], []
    if len(set(ray_waitables)) != len(ray_waitables):
        raise ValueError("Wait requires a list of unique ray_waitables.")
    if num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(ray_waitables):
        raise ValueError(
            "num_returns cannot be greater than the number of ray_waitables provided to ray.wait."
        )
    if generators:
        own = getattr(session, "wait_mixed", None)  # a backend with its own streams (local)
        if own is not None:
            return own(ray_waitables, num_returns, timeout)
        from simray._generator import wait_mixed

        return wait_mixed(session, ray_waitables, num_returns, timeout)
    return session.wait(ray_waitables, num_returns, timeout, fetch_local)


def put(value: Any, *, _owner: Any = None) -> Any:
    """Store a copy of `value`; returns its ObjectRef."""
    if isinstance(value, ObjectRef):
        raise TypeError(
            "Calling 'put' on an ray.ObjectRef is not allowed. If you really want to do this, you "
            "can wrap the ray.ObjectRef in a list and call 'put' on it."
        )
    if _owner is not None:
        raise ValueError(
            "The experimental `_owner` argument to `ray.put` has been removed in Ray 2.56."
        )
    return _session.backend().put(value)


def cancel(ray_waitable: Any, *, force: bool = False, recursive: bool = True) -> None:
    """Cancel a task: pending ones never run; running ones get KeyboardInterrupt (or end, if force)."""
    if isinstance(ray_waitable, ObjectRefGenerator):
        ray_waitable = ray_waitable._generator_ref
    _session.backend().cancel(ray_waitable, force, recursive)


def kill(actor: Any, *, no_restart: bool = True) -> None:
    """Kill an actor at once: running and queued calls fail with ActorDiedError."""
    if not isinstance(actor, ActorHandle):
        raise ValueError(
            f"ray.kill() only supported for actors. For tasks, try ray.cancel(). Got: {type(actor)}."
        )
    _session.backend().kill(actor, no_restart)


def get_actor(name: str, namespace: str | None = None) -> Any:
    """The handle of a named actor (in `namespace`, default the session's)."""
    if not name:
        raise ValueError("Please supply a non-empty value to get_actor")
    if namespace is not None:
        validate_namespace(namespace)
    return _session.backend().get_actor(name, namespace)


def cluster_resources() -> dict[str, float]:
    """Total resources of the alive nodes."""
    return _session.backend().cluster_resources()


def available_resources() -> dict[str, float]:
    """Resources free now (keys at 0 are left out, as Ray 2.60 does)."""
    return _session.backend().available_resources()


def nodes() -> list[dict[str, Any]]:
    """One dict per node, with Ray's keys (`NodeID`, `Alive`, `Resources`, ...)."""
    return _session.backend().nodes()


def get_gpu_ids() -> list[int]:
    """GPU ids assigned to the current task ([] in the driver)."""
    return list(_session.backend().context()["gpu_ids"])


def timeline(filename: str | None = None) -> list[dict[str, Any]] | None:
    """The session's tasks as Chrome trace events (Perfetto, chrome://tracing): a list, or
    written to `filename` (then None), as `ray.timeline`.

    On `sim` the events come from the run's trace, so the session must record one:
    `init(trace=True)` (in memory), `init(trace="FILE")`, `SIMRAY_TRACE` or `simray exec --trace`.
    """
    if not is_initialized():
        raise RuntimeError(
            "Ray has not been started yet. Timeline requires Ray to be initialized first."
        )
    backend = _session.backend()
    if backend.name == "ray":
        return backend.timeline(filename)
    trace = getattr(backend, "trace", None)
    if trace is None:
        raise RuntimeError(
            "ray.timeline() on the sim backend is built from the run's trace, which this session "
            "does not record: start it with init(trace=True) (or a file path), SIMRAY_TRACE=FILE, "
            "or `simray exec --trace FILE`"
        )
    from simray._timeline import chrome_trace_events, write_chrome_trace

    events = chrome_trace_events(trace.lines())
    if filename is None:
        return events
    write_chrome_trace(events, filename)
    return None
