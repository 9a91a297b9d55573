"""The plugin's fixtures: a marker-configured session, a cluster builder, and Ray's own.

Ray's fixtures (`python/ray/tests/conftest.py`) keep their names, scopes, defaults and
`request.param` overrides (`@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2}],
indirect=True)`), so Ray-style test files run unchanged. They start a session of the test's
backend (`--simray-backend`, default sim); on `ray` they start real Ray, as Ray's conftest does.
A conftest of your own that defines a fixture of the same name wins over these.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from simray.testing import _config

MIB = 1024 * 1024


def get_default_fixture_system_config() -> dict[str, Any]:
    """Ray's conftest `_system_config` (meaningless in a simulation; passed on to real Ray)."""
    return {
        "object_timeout_milliseconds": 200,
        "health_check_initial_delay_ms": 0,
        "health_check_failure_threshold": 10,
        "object_store_full_delay_ms": 100,
        "local_gc_min_interval_s": 1,
    }


def get_default_fixture_ray_kwargs() -> dict[str, Any]:
    """Ray's conftest defaults for `ray.init`: one CPU, a 150 MiB store, a test namespace."""
    return {
        "num_cpus": 1,
        "object_store_memory": 150 * MIB,
        "dashboard_port": None,
        "namespace": "default_test_namespace",
        "_system_config": get_default_fixture_system_config(),
    }


def _run_of(request: pytest.FixtureRequest) -> _config.TestRun:
    """The test's settings; a module- or class-scoped fixture uses the command line's."""
    node = request.node
    run = node.stash.get(_config.RUN_KEY, None) if isinstance(node, pytest.Item) else None
    if run is None:
        config = request.config
        seed = _config.base_seed(config)
        jitter = _config.option(config, "simray_jitter")
        run = _config.TestRun(
            _config.default_backend(config),
            0 if seed is None else seed,
            jitter=None if jitter is None else float(jitter),
        )
    return run


def _init(run: _config.TestRun, *args: Any, **kwargs: Any) -> Any:
    import simray

    if run.backend != "sim":
        return simray.init(*args, backend=run.backend, **kwargs)
    kwargs.setdefault("seed", run.seed)
    kwargs.setdefault("trace", True)  # kept in memory: the failure report shows its end
    saved = _config.set_env(run)  # the jitter reaches the session through SIMRAY_JITTER
    try:
        return simray.init(*args, backend=run.backend, **kwargs)
    finally:
        _config.restore_env(saved)


def _shutdown() -> None:
    """End simray's session, and real Ray's if the test connected to it itself (`ray.init`
    in a test run with --simray-backend=ray), as Ray's fixtures call `ray.shutdown()`."""
    import sys

    import simray

    simray.shutdown()
    ray = sys.modules.get("ray")
    if ray is not None and ray.__name__ == "ray" and ray.is_initialized():
        ray.shutdown()


def _cluster_class(run: _config.TestRun) -> Any:
    if run.backend == "ray":
        import ray.cluster_utils

        return ray.cluster_utils.Cluster
    from simray.cluster import Cluster

    return Cluster


def _connect(run: _config.TestRun, cluster: Any, namespace: str | None = None) -> Any:
    return _init(run, address=cluster.address, namespace=namespace)


@contextlib.contextmanager
def _ray_start(run: _config.TestRun, **kwargs: Any) -> Iterator[Any]:
    init_kwargs = get_default_fixture_ray_kwargs()
    init_kwargs.update(kwargs)
    address_info = _init(run, "local", **init_kwargs)
    try:
        yield address_info
    finally:
        _shutdown()


@contextlib.contextmanager
def _ray_start_cluster(run: _config.TestRun, **kwargs: Any) -> Iterator[Any]:
    kwargs.pop("skip_cluster", None)  # every simulated cluster is supported
    init_kwargs = get_default_fixture_ray_kwargs()
    num_nodes = kwargs.pop("num_nodes", 0)
    if "do_init" in kwargs:
        do_init = kwargs.pop("do_init")
    else:
        do_init = num_nodes > 0
    init_kwargs.update(kwargs)
    namespace = init_kwargs.pop("namespace")
    init_kwargs.pop("dashboard_port", None)
    cluster = _cluster_class(run)()
    added = []
    try:
        for i in range(num_nodes):
            if i > 0:
                init_kwargs.pop("_system_config", None)
            added.append(cluster.add_node(**init_kwargs))
            if len(added) == 1 and do_init:
                _connect(run, cluster, namespace)
        yield cluster
    finally:
        _shutdown()
        cluster.shutdown()


def _param(request: pytest.FixtureRequest) -> dict[str, Any]:
    param = getattr(request, "param", {})
    if not isinstance(param, dict):
        raise TypeError(
            f"fixture {request.fixturename!r} takes a dict of ray.init arguments through "
            f"indirect parametrization, got {param!r}; write e.g. "
            f'@pytest.mark.parametrize("{request.fixturename}", [{{"num_cpus": 2}}], '
            "indirect=True)"
        )
    return copy.deepcopy(param)


# -- simray's own ------------------------------------------------------------------------------
class SimraySession:
    """What `simray_session` yields: the session's backend and seed, its cluster (multi-node)."""

    def __init__(self, backend: str, seed: int, cluster: Any, info: Any):
        self.backend = backend
        self.seed = seed
        self.cluster = cluster
        self.info = info

    def now(self) -> float:
        """Virtual seconds since the session started (sim only)."""
        from simray import sim

        return sim.now()

    def trace_lines(self) -> list[str]:
        """The sim trace so far, as JSON lines."""
        from simray import sim

        return sim.trace_lines()

    def __repr__(self) -> str:
        return f"SimraySession(backend={self.backend!r}, seed={self.seed})"


_NODE_KEYS = ("num_cpus", "num_gpus", "resources", "labels", "object_store_memory")


@pytest.fixture
def simray_session(request: pytest.FixtureRequest) -> Iterator[SimraySession]:
    """A session for one test, configured by `@pytest.mark.simray(...)`.

    Keywords: `num_cpus`, `num_gpus`, `resources`, `labels`, `object_store_memory`,
    `accelerator_type` (one node); `nodes=N` (N such nodes) or `nodes=[{...}, ...]` (one dict of
    `Cluster.add_node` arguments per node, the head first); `seed`, `backend`, `namespace`.
    """
    run = _run_of(request)
    kwargs = _config.marker_kwargs(request.node)
    nodes = kwargs.get("nodes")
    single = {k: kwargs[k] for k in _NODE_KEYS if k in kwargs}
    accelerator = kwargs.get("accelerator_type")
    namespace = kwargs.get("namespace")
    cluster = None
    if nodes is not None or accelerator is not None:
        if nodes is None or isinstance(nodes, int):
            count = 1 if nodes is None else nodes
            if count < 1:
                raise ValueError(f"@pytest.mark.simray(nodes=...) must be >= 1, got {count}")
            spec = dict(single)
            if accelerator is not None:
                spec = _with_accelerator(spec, accelerator, run.backend)
            specs = [dict(spec) for _ in range(count)]
        elif isinstance(nodes, list | tuple) and nodes and all(isinstance(n, dict) for n in nodes):
            if single or accelerator is not None:
                raise ValueError(
                    "@pytest.mark.simray(nodes=[...]) describes every node; put num_cpus, "
                    f"num_gpus, ... inside the node dicts, not beside them (got {sorted(single)})"
                )
            specs = [
                _with_accelerator(dict(n), n.get("accelerator_type"), run.backend) for n in nodes
            ]
        else:
            raise ValueError(
                "@pytest.mark.simray(nodes=...) takes a node count or a non-empty list of dicts "
                f"of Cluster.add_node arguments, got {nodes!r}"
            )
        cluster = _cluster_class(run)()
        for spec in specs:
            cluster.add_node(**spec)
        info = _connect(run, cluster, namespace)
    else:
        info = _init(run, namespace=namespace, **single)
    try:
        yield SimraySession(run.backend, run.seed, cluster, info)
    finally:
        _shutdown()
        if cluster is not None:
            cluster.shutdown()


def _with_accelerator(
    spec: dict[str, Any], accelerator: str | None, backend: str
) -> dict[str, Any]:
    spec.pop("accelerator_type", None)
    if accelerator is None:
        return spec
    if backend == "sim":
        spec["accelerator_type"] = accelerator
    else:  # Ray's Cluster.add_node takes the accelerator as a custom resource
        resources = dict(spec.get("resources") or {})
        resources[f"accelerator_type:{accelerator}"] = 1
        spec["resources"] = resources
    return spec


@pytest.fixture
def simray_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An empty cluster builder: `add_node(...)` (the first is the head), then `connect()`.

    On sim it is `simray.cluster.Cluster`, on ray `ray.cluster_utils.Cluster`; the session and
    the cluster are shut down after the test.
    """
    run = _run_of(request)
    cluster = _cluster_class(run)()
    try:
        yield cluster
    finally:
        _shutdown()
        cluster.shutdown()


@pytest.fixture
def simray_seed(request: pytest.FixtureRequest) -> int:
    """The seed this test runs under (a sweep's, `--simray-seed`, the marker's, or 0)."""
    return _run_of(request).seed


# -- Ray's conftest fixtures -------------------------------------------------------------------
@pytest.fixture
def maybe_external_redis() -> None:
    """Ray runs some tests against an external Redis; a simulation has none to start."""
    return None


@pytest.fixture
def shutdown_only(maybe_external_redis: None) -> Iterator[None]:
    """The test calls `ray.init` itself; the session is shut down after it."""
    yield None
    _shutdown()


@pytest.fixture
def propagate_logs() -> Iterator[None]:
    """Ray's: let the `ray` loggers propagate so caplog sees them."""
    import logging

    names = ("ray", "ray.data", "simray")
    before = {n: logging.getLogger(n).propagate for n in names}
    for n in names:
        logging.getLogger(n).propagate = True
    yield
    for n, value in before.items():
        logging.getLogger(n).propagate = value


@pytest.fixture(scope="class")
def class_ray_instance(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A session shared by a test class (Ray's: a bare `ray.init()`)."""
    run = _run_of(request)
    yield _init(run)
    _shutdown()


@pytest.fixture
def ray_start_with_dashboard(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    param = _param(request)
    if param.get("num_cpus") is None:
        param["num_cpus"] = 1
    with _ray_start(_run_of(request), include_dashboard=True, **param) as info:
        yield info


@pytest.fixture
def ray_start_no_cpu(request: pytest.FixtureRequest, maybe_external_redis: None) -> Iterator[Any]:
    """A 0-CPU session."""
    with _ray_start(_run_of(request), **{"num_cpus": 0, **_param(request)}) as info:
        yield info


@pytest.fixture
def ray_start_regular(request: pytest.FixtureRequest, maybe_external_redis: None) -> Iterator[Any]:
    """A 1-CPU session for one test; `request.param` overrides the `ray.init` arguments."""
    with _ray_start(_run_of(request), **_param(request)) as info:
        yield info


@pytest.fixture(scope="module")
def ray_start_regular_shared(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A 1-CPU session shared by the tests of a module (each test reseeds it with its seed)."""
    with _ray_start(_run_of(request), **_param(request)) as info:
        yield info


@pytest.fixture(scope="module")
def ray_start_regular_shared_2_cpus(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A 2-CPU session shared by the tests of a module."""
    with _ray_start(_run_of(request), **{"num_cpus": 2, **_param(request)}) as info:
        yield info


@pytest.fixture
def ray_start_2_cpus(request: pytest.FixtureRequest, maybe_external_redis: None) -> Iterator[Any]:
    with _ray_start(_run_of(request), **{"num_cpus": 2, **_param(request)}) as info:
        yield info


@pytest.fixture
def ray_start_10_cpus(request: pytest.FixtureRequest, maybe_external_redis: None) -> Iterator[Any]:
    with _ray_start(_run_of(request), **{"num_cpus": 10, **_param(request)}) as info:
        yield info


@pytest.fixture
def ray_start_cluster(request: pytest.FixtureRequest, maybe_external_redis: None) -> Iterator[Any]:
    """A cluster with no nodes (params `num_nodes`, `do_init`); the test adds nodes and inits."""
    with _ray_start_cluster(_run_of(request), **_param(request)) as cluster:
        yield cluster


@pytest.fixture
def ray_start_cluster_enabled(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    with _ray_start_cluster(_run_of(request), **_param(request)) as cluster:
        yield cluster


@pytest.fixture
def ray_start_cluster_init(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    with _ray_start_cluster(_run_of(request), **{"do_init": True, **_param(request)}) as cluster:
        yield cluster


@pytest.fixture
def ray_start_cluster_head(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    """A one-node cluster, connected."""
    param = {"do_init": True, "num_nodes": 1, **_param(request)}
    with _ray_start_cluster(_run_of(request), **param) as cluster:
        yield cluster


@pytest.fixture
def ray_start_cluster_head_with_env_vars(
    request: pytest.FixtureRequest, maybe_external_redis: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    param = _param(request)
    for key, value in param.pop("env_vars", {}).items():
        monkeypatch.setenv(key, value)
    param = {"do_init": True, "num_nodes": 1, **param}
    with _ray_start_cluster(_run_of(request), **param) as cluster:
        yield cluster


@pytest.fixture
def ray_start_cluster_2_nodes(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    """A two-node cluster, connected."""
    param = {"do_init": True, "num_nodes": 2, **_param(request)}
    with _ray_start_cluster(_run_of(request), **param) as cluster:
        yield cluster


@pytest.fixture
def ray_start_object_store_memory(
    request: pytest.FixtureRequest, maybe_external_redis: None
) -> Iterator[Any]:
    """A 1-CPU session whose object store size is `request.param` (required); yields the size."""
    store_size = getattr(request, "param", None)
    if store_size is None:
        raise TypeError(
            "fixture 'ray_start_object_store_memory' needs the store size in bytes through "
            "indirect parametrization: @pytest.mark.parametrize("
            '"ray_start_object_store_memory", [10**8], indirect=True)'
        )
    run = _run_of(request)
    _init(
        run,
        "local",
        num_cpus=1,
        _system_config=get_default_fixture_system_config(),
        object_store_memory=store_size,
    )
    try:
        yield store_size
    finally:
        _shutdown()


@pytest.fixture
def two_node_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Two 1-CPU nodes, connected; yields `(cluster, last_node)`."""
    run = _run_of(request)
    cluster = _cluster_class(run)(
        head_node_args={"_system_config": {"object_timeout_milliseconds": 200}}
    )
    try:
        for _ in range(2):
            remote_node = cluster.add_node(num_cpus=1)
        _connect(run, cluster)
        yield cluster, remote_node
    finally:
        _shutdown()
        cluster.shutdown()


FIXTURES = frozenset(
    name
    for name, value in list(globals().items())
    if hasattr(value, "_fixture_function_marker") or hasattr(value, "_pytestfixturefunction")
)
