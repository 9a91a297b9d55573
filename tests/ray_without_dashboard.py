"""`python tests/ray_without_dashboard.py [--no-autoscaler-monitor] ARGS` is `python -m simray ARGS`
with real Ray's dashboard off wherever a start-up leaves `include_dashboard` to Ray's default, and
the start-up spared what only the dashboard needs.

Each Ray start-up (`ray.init()`, a `Cluster`'s node) of a conformance program used to cost ~12 s
of wall time on 2 loaded cores, for a program that itself runs in under a second: the head
waits for a dashboard process, the raylet for its agents, `ray.shutdown()` for the autoscaler
monitor. With the dashboard off, none of those waits serve the program. What changes, all in
this process (the program's code and Ray's other processes are Ray's own):

- `RayParams`: `include_dashboard` None (Ray's default: on) becomes False. An explicit
  `include_dashboard=True` keeps all of Ray's start-up as it is.
- No dashboard process (`Node.start_api_server`): with the dashboard off Ray still starts one
  for its usage-stats module alone and polls until it is up (~2-5 s of every start-up).
- The raylet's agents are off the start-up's critical path (`Node.start_raylet`): the raylet
  does not register its node until the dashboard agent has written its ports (after importing
  and loading all of its modules: ~5 s under load) and the runtime-env agent its port.
  The dashboard agent's ports are written beforehand as -1, what Ray's minimal agent writes:
  its services are unavailable to the raylet and workers, as under `pip install ray`; it serves
  metrics, logs and job submission to the dashboard, and no program reads those. The runtime-env
  agent gets a free port chosen up front (a fixed one, as `ray start --runtime-env-agent-port=N`
  gives it), so the raylet need not wait for it to start: it still starts, and a task with a
  `runtime_env` waits for it as usual.
  Ray picks the agent's command line (`--minimal` or not) by importing all of the dashboard's
  dependencies (`ray._private.utils.get_dashboard_dependency_error`: ~1 s in the driver, on the
  critical path, for packages it then does not use); the same answer comes from looking them up.
- `--no-autoscaler-monitor` (`RayParams.no_monitor`): no autoscaler monitor, whose only output
  on a one-node cluster is the `(autoscaler +Ns)` notices on the driver's stdout about
  infeasible requests, which a program must ask for by name (`NEEDS_AUTOSCALER_MONITOR` in
  `tests/test_conformance.py`). It also ignores SIGTERM, so every `ray.shutdown()` waited 1 s
  to SIGKILL it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import random
import runpy
import socket
import sys
from collections.abc import Callable
from typing import Any

NO_AUTOSCALER_MONITOR = "--no-autoscaler-monitor"

# What `ray.dashboard.optional_deps` imports (Ray 2.60), by which Ray tells `ray[default]`.
DASHBOARD_DEPENDENCIES = (
    "aiohttp",
    "aiohttp_cors",
    "grpc",
    "opencensus",
    "opentelemetry.exporter.prometheus",
    "opentelemetry.proto",
    "prometheus_client",
    "pydantic",
)


def _dashboard_dependency_error() -> ImportError | None:
    """`ray._private.utils.get_dashboard_dependency_error()`, by looking up rather than importing."""
    import importlib.util

    for name in DASHBOARD_DEPENDENCIES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            return ImportError(f"No module named {name!r}")
    return None


def _unassigned_port(node: Any) -> int:
    """A free TCP port for the runtime-env agent to bind a second later: one between Ray's worker
    ports (10002-19999 by default) and the kernel's ephemeral range, which it hands to every
    `bind(0)` and `connect()` on the machine, so no other process is given it meanwhile. Outside
    Linux, Ray's own pick (`Node._get_unused_port`)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 0
    for _ in range(50):
        if ephemeral <= 20000:
            break
        port = random.randrange(20000, ephemeral)
        with socket.socket() as s:
            try:
                s.bind(("", port))
            except OSError:
                continue
        return port
    return node._get_unused_port()


def _patch_ray_params(module: Any, *, monitor: bool) -> None:
    ray_params = module.RayParams
    ray_params_init = ray_params.__init__

    @functools.wraps(ray_params_init)
    def init(self, *args, **kwargs):
        ray_params_init(self, *args, **kwargs)
        if self.include_dashboard is None:
            self.include_dashboard = False
        if not monitor:
            self.no_monitor = True

    ray_params.__init__ = init


def _patch_node(module: Any) -> None:
    node = module.Node
    start_api_server = node.start_api_server
    start_raylet = node.start_raylet

    @functools.wraps(start_api_server)
    def start_api_server_unless_off(self, *, include_dashboard, raise_on_failure):
        if include_dashboard is not False:
            start_api_server(
                self, include_dashboard=include_dashboard, raise_on_failure=raise_on_failure
            )

    @functools.wraps(start_raylet)
    def start_raylet_without_waiting_for_agents(self, *args, **kwargs):
        if self._ray_params.include_dashboard is False:
            from ray._raylet import (
                DASHBOARD_AGENT_LISTEN_PORT_NAME,
                METRICS_AGENT_PORT_NAME,
                METRICS_EXPORT_PORT_NAME,
                persist_port,
            )

            for name in (
                METRICS_AGENT_PORT_NAME,
                METRICS_EXPORT_PORT_NAME,
                DASHBOARD_AGENT_LISTEN_PORT_NAME,
            ):
                persist_port(self._session_dir, self._node_id, name, -1)
            if not self._ray_params.runtime_env_agent_port:
                self._ray_params.runtime_env_agent_port = _unassigned_port(self)
            utils = sys.modules["ray._private.utils"]
            get_dashboard_dependency_error = utils.get_dashboard_dependency_error
            utils.get_dashboard_dependency_error = _dashboard_dependency_error
            try:
                return start_raylet(self, *args, **kwargs)
            finally:
                utils.get_dashboard_dependency_error = get_dashboard_dependency_error
        return start_raylet(self, *args, **kwargs)

    node.start_api_server = start_api_server_unless_off
    node.start_raylet = start_raylet_without_waiting_for_agents


class _PatchWhenImported(importlib.abc.MetaPathFinder):
    """Patch Ray's modules when the program imports Ray, not before: Ray reads settings such as
    `RAY_SCHEDULER_EVENTS` at import, and programs set them in `os.environ` first."""

    def __init__(self, patches: dict[str, Callable[[Any], None]]):
        self.patches = patches

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        patch = self.patches.pop(name, None)
        if patch is None:
            return None
        if not self.patches:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


def main() -> None:
    monitor = NO_AUTOSCALER_MONITOR not in sys.argv[1:2]
    if not monitor:
        del sys.argv[1]
    sys.meta_path.insert(
        0,
        _PatchWhenImported(
            {
                "ray._private.parameter": functools.partial(_patch_ray_params, monitor=monitor),
                "ray._private.node": _patch_node,
            }
        ),
    )
    sys.path[0] = os.getcwd()  # as `python -m` has it, not this file's folder
    runpy.run_module("simray", run_name="__main__", alter_sys=True)


main()
