"""simray's pytest plugin (entry point `pytest11`): options, the marker, seeds, failure reports.

Loading it imports only pytest and the standard library; simray's sessions, Ray and
hypothesis are imported by the fixtures and hooks that use them. A *simray test* is one marked
`@pytest.mark.simray(...)` or using one of the plugin's session fixtures; it runs with
`SIMRAY_SEED`/`SIMRAY_BACKEND` set, so a bare `ray.init()` inside it gets its seed and backend,
and when it fails its report gives the seed, the command that replays it and the last events of
its trace.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from simray.testing import _config
from simray.testing._fixtures import *  # noqa: F403  (the fixtures are the plugin's)
from simray.testing._fixtures import FIXTURES

_NOT_SESSIONS = {"maybe_external_redis", "propagate_logs"}
SESSION_FIXTURES = FIXTURES - _NOT_SESSIONS
_SAVED_BACKEND = pytest.StashKey["str | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("simray", "simray: Ray tests on a deterministic simulator")
    group.addoption(
        "--simray-backend",
        dest="simray_backend",
        choices=_config.BACKENDS,
        default=None,
        help="backend of simray tests: sim (default), local or ray",
    )
    group.addoption(
        "--simray-seed",
        dest="simray_seed",
        type=int,
        default=None,
        help="seed of simray tests (default: the marker's, else 0); a failure prints the one "
        "to replay",
    )
    group.addoption(
        "--simray-seeds",
        dest="simray_seeds",
        type=int,
        default=None,
        metavar="K",
        help="run every simray test under K seeds (from --simray-seed, else 0): a schedule sweep",
    )
    group.addoption(
        "--simray-patch-ray",
        dest="simray_patch_ray",
        action="store_true",
        default=None,
        help="make `import ray` (and ray.util.*, ray.cluster_utils, ray._common.test_utils, "
        "ray._private.test_utils) resolve to simray in test modules and conftest files",
    )
    group.addoption(
        "--simray-trace-events",
        dest="simray_trace_events",
        type=int,
        default=None,
        metavar="N",
        help="how many trace events a failure report shows (default 10)",
    )
    group.addoption(
        "--simray-jitter",
        dest="simray_jitter",
        type=float,
        default=None,
        metavar="SECONDS",
        help="on sim with a seed other than 0, delay task starts, argument arrivals and actor "
        "call deliveries by up to SECONDS of virtual time, drawn from the seed",
    )
    parser.addini("simray_backend", "default of --simray-backend", default="")
    parser.addini("simray_jitter", "default of --simray-jitter", default="")
    parser.addini("simray_seed", "default of --simray-seed", default="")
    parser.addini("simray_seeds", "default of --simray-seeds", default="")
    parser.addini("simray_patch_ray", "default of --simray-patch-ray", type="bool", default=False)
    parser.addini("simray_trace_events", "default of --simray-trace-events", default="")


def _validate(config: pytest.Config) -> None:
    backend = _config.option(config, "simray_backend")
    if backend is not None and backend not in _config.BACKENDS:
        raise pytest.UsageError(
            f"simray_backend must be one of {', '.join(_config.BACKENDS)}, got {backend!r}"
        )
    checks = (
        ("simray_seed", 0, int),
        ("simray_seeds", 1, int),
        ("simray_trace_events", 0, int),
        ("simray_jitter", 0, float),
    )
    for name, low, kind in checks:
        value = _config.option(config, name)
        if value is None:
            continue
        try:
            number = kind(value)
        except ValueError:
            number = None
        if number is None or number < low:
            flag = "--" + name.replace("_", "-")
            what = "an integer" if kind is int else "a number"
            raise pytest.UsageError(f"{flag} (ini {name}) must be {what} >= {low}, got {value!r}")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: Any) -> None:
    """Alias `ray` to simray before any conftest file is imported, when asked to."""
    ns = early_config.known_args_namespace
    wanted = getattr(ns, "simray_patch_ray", None)
    if wanted is None:
        try:
            wanted = bool(early_config.getini("simray_patch_ray"))
        except (ValueError, KeyError):
            wanted = False
    backend = getattr(ns, "simray_backend", None)
    if backend is None:
        try:
            backend = early_config.getini("simray_backend") or None
        except (ValueError, KeyError):
            backend = None
    if wanted and (backend or "sim") != "ray":
        from simray import _ray_alias

        _ray_alias.install()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "simray(**kwargs): run under a simray session configured by num_cpus, num_gpus, "
        "resources, labels, object_store_memory, accelerator_type, nodes, seed, backend, "
        "namespace (use the simray_session fixture)",
    )
    _validate(config)
    backend = _config.option(config, "simray_backend")
    if backend is not None:
        # The whole run's default: code that starts sessions outside simray tests (a helper,
        # a hypothesis test of your own) picks the chosen backend too; put back at the end.
        config.stash[_SAVED_BACKEND] = os.environ.get("SIMRAY_BACKEND")
        os.environ["SIMRAY_BACKEND"] = backend


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SAVED_BACKEND in config.stash:
        saved = config.stash[_SAVED_BACKEND]
        if saved is None:
            os.environ.pop("SIMRAY_BACKEND", None)
        else:
            os.environ["SIMRAY_BACKEND"] = saved


def is_simray_test(item: Any) -> bool:
    if item.get_closest_marker("simray") is not None:
        return True
    return any(name in SESSION_FIXTURES for name in getattr(item, "fixturenames", ()))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Under `--simray-seeds=K`, parametrize every simray test over K seeds."""
    count = _config.seeds_count(metafunc.config)
    if count is None:
        return
    if metafunc.definition.get_closest_marker("simray") is None and not any(
        name in SESSION_FIXTURES for name in metafunc.fixturenames
    ):
        return
    base = _config.base_seed(metafunc.config) or 0
    seeds = list(range(base, base + count))
    if _config.SEED_PARAM not in metafunc.fixturenames:
        metafunc.fixturenames.append(_config.SEED_PARAM)
    metafunc.parametrize(_config.SEED_PARAM, seeds, ids=[f"seed{s}" for s in seeds])


@pytest.fixture(autouse=True)
def _simray_test_run(request: pytest.FixtureRequest) -> Iterator[None]:
    """Before a simray test: its seed and backend into the environment (a bare `ray.init()`
    sees them); a shared session already running is reseeded, so the test replays alone."""
    item = request.node
    if not is_simray_test(item):
        yield
        return
    run = _config.resolve(item)
    if run.backend == "sim":
        fd, run.trace_file = tempfile.mkstemp(prefix="simray-trace-", suffix=".jsonl")
        os.close(fd)
        os.unlink(run.trace_file)  # written only if a session of the test shuts down
    item.stash[_config.RUN_KEY] = run
    saved = _config.set_env(run)
    _reseed_shared_session(run)
    try:
        yield
    finally:
        _config.restore_env(saved)
        if run.trace_file is not None:
            try:
                os.unlink(run.trace_file)
            except FileNotFoundError:
                pass


def _reseed_shared_session(run: _config.TestRun) -> None:
    from simray import _session

    session = _session.active()
    rng = getattr(session, "rng", None)
    if rng is not None and getattr(session, "name", None) == "sim":
        from simray._sim import exploration

        rng.seed(run.seed)
        session.jitter = exploration.configure(session, run.seed, None, run.jitter)
        _register_with_hypothesis(rng)


def _register_with_hypothesis(rng: Any) -> None:
    """Let hypothesis seed the simulator's RNG per example, when hypothesis is in use."""
    import sys

    hypothesis = sys.modules.get("hypothesis")
    if hypothesis is not None:
        hypothesis.register_random(rng)


def _trace_tail(run: _config.TestRun, count: int) -> list[str]:
    from simray import _session

    session = _session.active()
    trace = getattr(session, "trace", None)
    if trace is not None and getattr(session, "name", None) == "sim":
        return trace.lines()[-count:] if count else []
    if run.trace_file is not None and os.path.exists(run.trace_file):
        with open(run.trace_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
        return lines[-count:] if count else []
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and report.when in ("setup", "call"):
        run = item.stash.get(_config.RUN_KEY, None)
        if run is not None:
            count = _config.option(item.config, "simray_trace_events")
            count = 10 if count is None else int(count)
            command = _config.replay_command(item, run)
            lines = [
                f"seed {run.seed} on backend {run.backend}",
                f"replay with: {command}",
            ]
            if run.backend == "sim":
                tail = _trace_tail(run, count)
                if tail:
                    lines.append(f"last {len(tail)} trace events:")
                    lines.extend("  " + line for line in tail)
                else:
                    lines.append("no trace events (no sim session ran in this test)")
            report.sections.append(("simray", "\n".join(lines)))
            report.user_properties.append(("simray_replay", command))
            report.user_properties.append(("simray_seed", run.seed))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List failed simray tests with their seeds and replay commands (xdist workers' too)."""
    failed = []
    for key in ("failed", "error"):
        for report in terminalreporter.stats.get(key, []):
            props = dict(getattr(report, "user_properties", ()))
            if "simray_replay" in props:
                failed.append((report.nodeid, props["simray_seed"], props["simray_replay"]))
    if not failed:
        return
    terminalreporter.section("simray: failing seeds")
    for nodeid, seed, command in failed:
        terminalreporter.write_line(f"{nodeid}: seed {seed}; replay with: {command}")
