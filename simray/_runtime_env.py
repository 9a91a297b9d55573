"""`runtime_env` on `init`, tasks and actors: `env_vars` apply per task, the rest is validated.

`env_vars` must be `Dict[str, str]` (Ray's TypeError texts); a task's variables are the job's
(from `init`), then its parent's, then its own, merged key by key as Ray merges them. Fields
that install software or ship files (`pip`, `conda`, `uv`, `container`, `image_uri`,
`working_dir`, `py_modules`) do not apply on `sim` or `local` (this machine's packages and
files): simray warns once per field.
"""

from __future__ import annotations

from typing import Any

_INSTALLING = ("pip", "conda", "uv", "container", "image_uri", "working_dir", "py_modules")
_warned: set[str] = set()


def env_vars_of(runtime_env: Any) -> dict[str, str] | None:
    """Validate `runtime_env` as Ray does; return its env_vars (None if it has none)."""
    if runtime_env is None:
        return None
    if not isinstance(runtime_env, dict):
        raise TypeError(
            f"runtime_env must be a dictionary or a RuntimeEnv, got {type(runtime_env)}"
        )
    for field in _INSTALLING:
        if runtime_env.get(field) and field not in _warned:
            _warned.add(field)
            import warnings

            warnings.warn(
                f"simray: runtime_env[{field!r}] is accepted but not applied: the sim and "
                "local backends run every task with this machine's installed packages and "
                "files, so install packages or ship files before the run (or use --backend "
                "ray)",
                RuntimeWarning,
                stacklevel=3,
            )
    env_vars = runtime_env.get("env_vars")
    if env_vars is None:
        return None
    if not isinstance(env_vars, dict):
        if not env_vars:
            return None
        raise TypeError(
            f"runtime_env['env_vars'] must be of type Dict[str, str], got {type(env_vars)}"
        )
    for key, value in env_vars.items():
        if not isinstance(key, str):
            raise TypeError(
                "runtime_env['env_vars'] must be of type Dict[str, str], but the key "
                f"{key} is of type {type(key)}"
            )
        if not isinstance(value, str):
            raise TypeError(
                "runtime_env['env_vars'] must be of type Dict[str, str], but the value "
                f"{value} is of type {type(value)}"
            )
    return dict(env_vars) or None


def merged(inherited: dict[str, str] | None, own: dict[str, str] | None) -> dict[str, str] | None:
    """The inherited variables with the task's own on top (None when there are none)."""
    if not own:
        return inherited
    if not inherited:
        return own
    return {**inherited, **own}


class UnitEnv:
    """A unit's process environment on sim: its CUDA_VISIBLE_DEVICES and its env_vars."""

    __slots__ = ("cuda", "vars")

    def __init__(self, cuda: str | None, variables: dict[str, str]):
        self.cuda = cuda
        self.vars = variables
