"""What one simray test runs under: backend, seed, and the replay command that reproduces it.

Shared by the plugin's hooks and its fixtures; imports only the standard library and pytest.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import pytest

BACKENDS = ("sim", "local", "ray")
MARKER_KEYS = (
    "num_cpus",
    "num_gpus",
    "resources",
    "labels",
    "object_store_memory",
    "accelerator_type",
    "nodes",
    "seed",
    "backend",
    "namespace",
)
SEED_PARAM = "simray_seed"


@dataclasses.dataclass
class TestRun:
    """The simray settings of one test item, kept in its stash for the fixtures and the report."""

    backend: str
    seed: int
    trace_file: str | None = None
    jitter: float | None = None


RUN_KEY = pytest.StashKey[TestRun]()


def option(config: pytest.Config, name: str) -> Any:
    """A command-line option, else its ini key, else None."""
    value = config.getoption(name, None)
    if value is None:
        value = config.getini(name) or None
    return value


def default_backend(config: pytest.Config) -> str:
    return option(config, "simray_backend") or "sim"


def base_seed(config: pytest.Config) -> int | None:
    value = option(config, "simray_seed")
    return None if value is None else int(value)


def seeds_count(config: pytest.Config) -> int | None:
    value = option(config, "simray_seeds")
    return None if value is None else int(value)


def patch_ray(config: pytest.Config) -> bool:
    value = config.getoption("simray_patch_ray", False) or config.getini("simray_patch_ray")
    return bool(value) and default_backend(config) != "ray"


def marker_kwargs(item: Any) -> dict[str, Any]:
    """The `@pytest.mark.simray(...)` keywords nearest the test (function over class/module)."""
    marker = item.get_closest_marker("simray")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.simray takes keyword arguments only, got positional "
            f"{marker.args!r}; write e.g. @pytest.mark.simray(num_cpus=2)"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.simray got unknown argument(s) {unknown}; it takes "
            f"{', '.join(MARKER_KEYS)}"
        )
    return dict(marker.kwargs)


def resolve(item: Any) -> TestRun:
    """Backend and seed of a test: a sweep's seed, else --simray-seed, else the marker's, else 0;
    the marker's backend, else --simray-backend, else sim."""
    config = item.config
    kwargs = marker_kwargs(item)
    backend = kwargs.get("backend") or default_backend(config)
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"{item.nodeid}: simray backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    callspec = getattr(item, "callspec", None)
    if callspec is not None and SEED_PARAM in callspec.params:
        seed = callspec.params[SEED_PARAM]
    else:
        seed = base_seed(config)
        if seed is None:
            seed = kwargs.get("seed", 0)
    jitter = option(config, "simray_jitter")
    return TestRun(backend, int(seed), jitter=None if jitter is None else float(jitter))


_SEED_ID = re.compile(r"(^|-)seed\d+(?=-|$)")


def replay_command(item: Any, run: TestRun) -> str:
    """`pytest path::test --simray-seed=N`, with the sweep's `[seedN]` taken out of the id."""
    nodeid = item.nodeid
    if "[" in nodeid and nodeid.endswith("]"):
        base, _, ids = nodeid[:-1].partition("[")
        ids = _SEED_ID.sub("", ids, count=1).lstrip("-")
        nodeid = f"{base}[{ids}]" if ids else base
    parts = ["pytest", _quote(nodeid), f"--simray-seed={run.seed}"]
    if run.backend != "sim":
        parts.append(f"--simray-backend={run.backend}")
    if run.jitter:
        parts.append(f"--simray-jitter={run.jitter:g}")
    if patch_ray(item.config):
        parts.append("--simray-patch-ray")
    return " ".join(parts)


def _quote(text: str) -> str:
    return f"'{text}'" if re.search(r"[\s\[\]'\"*?]", text) else text


def set_env(run: TestRun) -> dict[str, str | None]:
    """Point sessions started inside the test (a bare `ray.init()`) at its backend and seed."""
    keys = ("SIMRAY_SEED", "SIMRAY_BACKEND", "SIMRAY_TRACE", "SIMRAY_JITTER")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["SIMRAY_SEED"] = str(run.seed)
    if run.jitter is not None:
        os.environ["SIMRAY_JITTER"] = str(run.jitter)
    os.environ["SIMRAY_BACKEND"] = run.backend
    if run.trace_file is not None:
        os.environ["SIMRAY_TRACE"] = run.trace_file
    else:
        os.environ.pop("SIMRAY_TRACE", None)
    return saved


def restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
