"""Make `import ray` (and Ray's submodules that simray provides) resolve to simray.

Used by `simray exec` for the sim backend: the script runs unmodified. A Ray submodule that
simray does not provide fails at import with a message that says so, rather than half-working.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import types
from typing import Any

ALIASES = {
    "ray": "simray",
    "ray.exceptions": "simray.exceptions",
    "ray.util": "simray.util",
    "ray.util.accelerators": "simray.util.accelerators",
    "ray.util.scheduling_strategies": "simray.util.scheduling_strategies",
    "ray.cluster_utils": "simray.cluster",
    "ray.util.placement_group": "simray.util.placement_group",
    "ray._common.test_utils": "simray.util.test_utils",
    "ray._private.test_utils": "simray.util.test_utils",
}
# Packages that exist only as parents of aliased modules.
_EMPTY_PARENTS = ("ray._common", "ray._private")


class _Refuse(importlib.abc.MetaPathFinder):
    """Refuses Ray submodules that simray lacks, naming the way out."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname == "ray" or fullname.startswith("ray."):
            raise ModuleNotFoundError(
                f"simray exec: module {fullname!r} is not provided by simray (it provides "
                f"{', '.join(sorted(ALIASES))}); run the script with --backend ray to use real Ray"
            )
        return None


def install() -> None:
    """Alias the Ray module names to simray's modules in `sys.modules`."""
    for alias, target in ALIASES.items():
        sys.modules[alias] = importlib.import_module(target)
    for parent in _EMPTY_PARENTS:
        module = types.ModuleType(parent, f"simray exec: the parent of {parent}.test_utils")
        module.__path__ = []  # a package, so `import ray._common.test_utils` works
        sys.modules[parent] = module
    # `import ray.cluster_utils` then `ray.cluster_utils.X` needs the child set on its parent.
    for alias in ALIASES:
        parent, _, child = alias.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[alias])
    sys.meta_path.append(_Refuse())
