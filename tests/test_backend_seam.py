"""The backend seam: every backend provides all of `Backend`, and the api layer imports none."""

from __future__ import annotations

import ast
import importlib
import inspect
import os

import pytest

from simray import _session
from simray._backend import Backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_LAYER = [
    "simray/_api.py",
    "simray/_actor.py",
    "simray/_remote_function.py",
    "simray/_object_ref.py",
    "simray/cluster.py",
    "simray/util/__init__.py",
    "simray/util/placement_group.py",
]
_MEMBERS = [
    name
    for name, value in vars(Backend).items()
    if not name.startswith("_") and (callable(value) or isinstance(value, property))
] + list(Backend.__annotations__)


@pytest.mark.parametrize("name", sorted(_session.BACKENDS))
def test_backend_provides_every_member_of_the_interface(name):
    module_name, _, class_name = _session.BACKENDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    missing = []
    for member in _MEMBERS:
        if member in Backend.__annotations__:
            found = hasattr(cls, member) or member in inspect.signature(cls.__init__).parameters
            # instance attributes are set in __init__: look for the assignment in the source
            found = found or f"self.{member} =" in inspect.getsource(cls)
        else:
            found = callable(getattr(cls, member, None))
        if not found:
            missing.append(member)
    assert not missing, f"{cls.__name__} lacks {missing}"


def test_interface_lists_what_the_api_layer_calls():
    """Every `backend().X` / `session.X` the api layer calls is a member of the interface."""
    called = set()
    for path in API_LAYER:
        tree = ast.parse(open(os.path.join(ROOT, path), encoding="utf-8").read())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "backend"
            ):
                called.add(node.attr)
    assert called, "the api layer should reach the backend through _session.backend()"
    assert called <= set(_MEMBERS), sorted(called - set(_MEMBERS))


@pytest.mark.parametrize("path", API_LAYER)
def test_api_layer_imports_no_backend(path):
    tree = ast.parse(open(os.path.join(ROOT, path), encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    backends = {m.partition(":")[0] for m in _session.BACKENDS.values()}
    assert not any(m in backends or m.startswith("simray._sim") for m in imported), imported
