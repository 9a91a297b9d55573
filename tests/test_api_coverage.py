"""Coverage of Ray 2.60's public names, read from the installed Ray.

Every public name of the Ray modules below is either provided by simray (on the module that
`simray exec` maps the Ray module to) or listed with a reason in the README table "Ray names
simray does not provide". The test prints the coverage per module.
"""

from __future__ import annotations

import importlib
import os
import re
import types

import pytest

RAY_MODULES = [
    "ray",
    "ray.actor",
    "ray.exceptions",
    "ray.runtime_context",
    "ray.util",
    "ray.util.queue",
    "ray.util.actor_pool",
    "ray.util.placement_group",
    "ray.util.scheduling_strategies",
    "ray.util.state",
    "ray.util.multiprocessing",
    "ray.cluster_utils",
]
_CONSTANT_TYPES = (int, str, float, tuple, list, dict, frozenset, set, bool)
README = os.path.join(os.path.dirname(os.path.dirname(__file__)), "README.md")


def public_names(module_name: str) -> list[str]:
    """`__all__`, or else the names the module itself defines (classes, functions, and
    upper-case constants), leaving out what it merely imports and typing helpers."""
    import typing

    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is not None:
        return sorted(set(names))
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or name == "TYPE_CHECKING":
            continue
        if isinstance(value, (types.ModuleType, typing.TypeVar)):
            continue
        defined_here = getattr(value, "__module__", None) == module_name
        constant = name.isupper() and type(value) in _CONSTANT_TYPES
        if defined_here or constant:
            found.append(name)
    return sorted(found)


def not_provided_table() -> dict[tuple[str, str], str]:
    """(module, name) -> reason, from the README's table."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    start = text.index("### Ray names simray does not provide")
    rows: dict[tuple[str, str], str] = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        match = re.match(r"\|\s*`([\w.]+)`\s*\|\s*(.+?)\s*\|\s*(.+?)\s*\|$", line)
        if match:
            module, names, reason = match.groups()
            for name in re.findall(r"`([\w.]+)`", names):
                rows[(module, name)] = reason
    return rows


def simray_module(ray_module: str) -> types.ModuleType | None:
    from simray import _ray_alias

    target = _ray_alias.ALIASES.get(ray_module)
    return importlib.import_module(target) if target else None


def _has(module: types.ModuleType, name: str) -> bool:
    """A name the module binds, or one of its submodules (imported on first use)."""
    import importlib.util

    if hasattr(module, name):
        return True
    if not hasattr(module, "__path__"):
        return False
    return importlib.util.find_spec(f"{module.__name__}.{name}") is not None


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_every_ray_name_is_provided_or_listed_with_a_reason(capsys):
    pytest.importorskip("ray")
    table = not_provided_table()
    missing, stale, lines = [], [], []
    totals = [0, 0, 0]
    for ray_module in RAY_MODULES:
        names = public_names(ray_module)
        ours = simray_module(ray_module)
        provided = [n for n in names if ours is not None and _has(ours, n)]
        listed = [n for n in names if n not in provided and (ray_module, n) in table]
        missing += [f"{ray_module}.{n}" for n in names if n not in provided and n not in listed]
        stale += [f"{ray_module}.{n}" for n in provided if (ray_module, n) in table]
        lines.append(f"{ray_module:34} {len(provided):4} {len(listed):4} {len(names):4}")
        for i, count in enumerate((len(provided), len(listed), len(names))):
            totals[i] += count
    with capsys.disabled():
        print("\nmodule                             provided  not-provided  total")
        print("\n".join(lines))
        print(f"{'all':34} {totals[0]:4} {totals[1]:4} {totals[2]:4}")
    assert not missing, f"neither provided nor in the README table: {missing}"
    assert not stale, f"provided now, so remove from the README table: {stale}"


def test_readme_table_rows_have_reasons():
    table = not_provided_table()
    assert table, "the README table of names not provided is empty or missing"
    for (module, name), reason in table.items():
        assert module.startswith("ray"), (module, name)
        assert len(reason) > 10, (module, name, reason)
