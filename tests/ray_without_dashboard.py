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
import os
import runpy
import sys

from ray._private.parameter import RayParams

_ray_params_init = RayParams.__init__


@functools.wraps(_ray_params_init)
def _dashboard_off_by_default(self, *args, **kwargs):
    _ray_params_init(self, *args, **kwargs)
    if self.include_dashboard is None:
        self.include_dashboard = False


RayParams.__init__ = _dashboard_off_by_default
sys.path[0] = os.getcwd()  # as `python -m` has it, not this file's folder
runpy.run_module("simray", run_name="__main__", alter_sys=True)
