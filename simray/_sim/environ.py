"""The process environment each sim unit sees: its CUDA_VISIBLE_DEVICES and runtime_env
env_vars, swapped into `os.environ` as units switch in (one interpreter for all of them).
"""

from __future__ import annotations

import os
from typing import Any

from simray._runtime_env import UnitEnv

CUDA = "CUDA_VISIBLE_DEVICES"


class Environ:
    """Mixed into SimBackend: `os.environ` as the running unit should see it."""

    # Provided by SimBackend.
    kernel: Any
    _saved_environ: dict[str, str | None]
    _driver_cuda: str | None

    def _switch_env(self, env: Any) -> None:
        """Swap the process environment to a unit's runtime_env env_vars (and CUDA devices)."""
        kernel = self.kernel
        now = kernel.env_now
        old_vars = now.vars if type(now) is UnitEnv else {}
        new_vars = env.vars if type(env) is UnitEnv else {}
        saved = self._saved_environ
        for key in old_vars:
            if key not in new_vars:
                original = saved.get(key)
                if original is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = original
        for key, value in new_vars.items():
            if key not in saved:
                saved[key] = os.environ.get(key)
            os.environ[key] = value
        cuda = env.cuda if type(env) is UnitEnv else env
        if cuda is None:
            os.environ.pop(CUDA, None)
        else:
            os.environ[CUDA] = cuda
        kernel.env_now = env

    def restore_environ(self) -> None:
        """At the session's end: the driver's environment, as before the session."""
        if type(self.kernel.env_now) is UnitEnv:
            self._switch_env(self._driver_cuda)
        if self.kernel.env_now != self._driver_cuda:
            if self._driver_cuda is None:
                os.environ.pop(CUDA, None)
            else:
                os.environ[CUDA] = self._driver_cuda
