"""`python tests/ray_without_dashboard.py ARGS` is `python -m simray ARGS` with real Ray's
dashboard off wherever a start-up leaves `include_dashboard` to Ray's default.

With `ray[default]` installed, each Ray start-up (`ray.init()`, a `Cluster`'s head) starts the
dashboard's head modules by default: seconds of CPU per conformance program, which only the
programs calling `ray.util.state` need (Ray serves that API from them). Ray reads the option
into `RayParams` wherever a node starts, so there Ray's default (None: on) becomes False. An
explicit `include_dashboard=True` still starts it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
from typing import Any


def _dashboard_off_by_default(ray_params: Any) -> None:
    ray_params_init = ray_params.__init__

    @functools.wraps(ray_params_init)
    def init(self, *args, **kwargs):
        ray_params_init(self, *args, **kwargs)
        if self.include_dashboard is None:
            self.include_dashboard = False

    ray_params.__init__ = init


class _PatchWhenImported(importlib.abc.MetaPathFinder):
    """Patch `RayParams` when the program imports Ray, not before: Ray reads settings such as
    `RAY_SCHEDULER_EVENTS` at import, and programs set them in `os.environ` first."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "ray._private.parameter":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _dashboard_off_by_default(module.RayParams)

        spec.loader.exec_module = exec_and_patch
        return spec


sys.meta_path.insert(0, _PatchWhenImported())
sys.path[0] = os.getcwd()  # as `python -m` has it, not this file's folder
runpy.run_module("simray", run_name="__main__", alter_sys=True)
