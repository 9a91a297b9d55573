"""Make `import ray` (and Ray's submodules that simray provides) resolve to simray.

Used by `simray exec` for the sim backend: the script runs unmodified. A Ray submodule that
simray does not provide fails at import with a message that says so, rather than half-working.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from typing import Any

ALIASES = {
    "ray": "simray",
    "ray.exceptions": "simray.exceptions",
    "ray.actor": "simray.actor",
    "ray.runtime_context": "simray.runtime_context",
    "ray.util": "simray.util",
    "ray.util.accelerators": "simray.util.accelerators",
    "ray.util.scheduling_strategies": "simray.util.scheduling_strategies",
    "ray.cluster_utils": "simray.cluster",
    "ray.autoscaler": "simray.autoscaler",
    "ray.autoscaler.sdk": "simray.autoscaler.sdk",
    "ray.util.placement_group": "simray.util.placement_group",
    "ray.util.actor_pool": "simray.util.actor_pool",
    "ray.util.queue": "simray.util.queue",
    "ray.util.state": "simray.util.state",
    "ray.dag": "simray.dag",
    "ray.cloudpickle": "cloudpickle",
    "ray.experimental": "simray.experimental",
    "ray.experimental.tqdm_ray": "simray.experimental.tqdm_ray",
    "ray.util.multiprocessing": "simray.util.multiprocessing",
    "ray._common.test_utils": "simray.util.test_utils",
    "ray._private.test_utils": "simray.util.test_utils",
}
# Packages that exist only as parents of aliased modules.
_EMPTY_PARENTS = ("ray._common", "ray._private")


# The finders and the loader below follow importlib's protocols without subclassing its ABCs:
# `importlib.abc` imports `importlib.resources` and with it tempfile and shutil (~10 ms at start-up).


class _Refuse:
    """Refuses Ray submodules that simray lacks, naming the way out (a meta path finder)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname == "ray" or fullname.startswith("ray."):
            raise ModuleNotFoundError(
                f"simray exec: module {fullname!r} is not provided by simray (it provides "
                f"{', '.join(sorted(ALIASES))}); run the script with --backend ray to use real Ray"
            )
        return None


class _Aliases:
    """Resolves an aliased Ray name to simray's module when the script first imports it, so a
    script pays only for the modules it uses (`ray._common.test_utils` brings asyncio)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        module = ALIASES.get(fullname)
        if module is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module))


class _AliasLoader:
    """Loads an alias as the simray module itself (imported once, shared by both names)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec: Any) -> Any:
        module = importlib.import_module(self.target)
        if spec.name == "ray":
            # Ray reads RAY_SCHEDULER_EVENTS at `import ray`: a script that sets it first
            # is heard, although simray itself was imported before the script ran.
            from simray import _output

            _output.read_scheduler_events()
        # Aliases of simray modules imported meanwhile are bound now: importing one later would
        # set it on its parent, and `ray.util.placement_group` must stay the function (as in
        # Ray, where `sys.modules["ray.util.placement_group"]` is the module).
        for alias, target in ALIASES.items():
            if alias not in sys.modules and target in sys.modules and alias != spec.name:
                sys.modules[alias] = sys.modules[target]
        return module

    def exec_module(self, module: Any) -> None:
        pass  # already executed under its simray name


def install(lazy: bool = False) -> None:
    """Make `import ray` resolve to simray, and Ray's aliased submodules on first import.

    `lazy` (a script's driver) leaves `ray` itself to the script's first `import ray` too, when
    Ray would read its import-time settings (RAY_SCHEDULER_EVENTS); otherwise (worker
    processes, test runs) `ray` is simray from now on.
    """
    module = importlib.import_module(ALIASES["ray"])
    if not lazy:
        sys.modules["ray"] = module
    for parent in _EMPTY_PARENTS:
        module = types.ModuleType(parent, f"simray exec: the parent of {parent}.test_utils")
        module.__path__ = []  # a package, so `import ray._common.test_utils` works
        sys.modules[parent] = module
    sys.meta_path.insert(0, _Aliases())
    sys.meta_path.append(_Refuse())
