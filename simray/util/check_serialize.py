"""`ray.util.inspect_serializability`: find what keeps an object from being pickled.

Like Ray's, it pickles the object with cloudpickle and, on failure, walks a function's closure
(globals and nonlocals) or an object's methods and attributes, `depth` levels down, collecting
the innermost objects that fail. The report is printed (plain text; Ray's is colored).
"""

from __future__ import annotations

import sys
from typing import Any


class FailureTuple:
    """One object that fails to serialize, the path of names to it, and its parent."""

    def __init__(self, obj: Any, path: tuple[str, ...] | str, parent: Any):
        self.obj = obj
        self.name = path if isinstance(path, str) else (path[-1] if path else "")
        self.path = path
        self.parent = parent

    def __repr__(self) -> str:
        return f"FailTuple({self.name} [obj={self.obj}, parent={self.parent}])"


def _pickles(obj: Any) -> bool:
    import cloudpickle

    try:
        cloudpickle.dumps(obj)
    except Exception:
        return False
    return True


def inspect_serializability(
    base_obj: Any, name: str | None = None, depth: int = 3, print_file: Any = None
) -> tuple[bool, set[FailureTuple]]:
    """Whether `base_obj` serializes, and the innermost objects that do not."""
    out = print_file or sys.stdout
    header = f"Checking Serializability of {base_obj}"
    print("=" * min(len(header), 80), file=out)
    print(header, file=out)
    print("=" * min(len(header), 80), file=out)
    failures: set[FailureTuple] = set()
    ok = _inspect(base_obj, name or "", depth, None, failures, out, "")
    if not ok and failures:
        print(
            "Variable: \n\n\t"
            + "\n\t".join(f"{f.name} [obj={f.obj}, parent={f.parent}]" for f in failures),
            file=out,
        )
        print(
            "\nwas found to be non-serializable. There may be multiple other undetected "
            "variables that were non-serializable.",
            file=out,
        )
    print("=" * min(len(header), 80), file=out)
    return ok, failures


def _inspect(
    obj: Any, name: str, depth: int, parent: Any, failures: set[FailureTuple], out: Any, pad: str
) -> bool:
    import inspect

    if _pickles(obj):
        return True
    print(f"{pad}Serializing '{name}' {obj}...", file=out)
    if depth <= 0:
        failures.add(FailureTuple(obj, name, parent))
        return False
    found = False
    if inspect.isfunction(obj):
        closure = inspect.getclosurevars(obj)
        for kind, names in (("global", closure.globals), ("nonlocal", closure.nonlocals)):
            for var, value in names.items():
                if not _pickles(value):
                    print(f"{pad}    Detected non-serializable {kind} '{var}'", file=out)
                    _inspect(value, var, depth - 1, obj, failures, out, pad + "    ")
                    found = True
    else:
        members = dict(inspect.getmembers(obj, predicate=inspect.isfunction))
        members.update(getattr(obj, "__dict__", {}) if not inspect.isclass(obj) else {})
        for var, value in members.items():
            if not _pickles(value):
                _inspect(value, var, depth - 1, obj, failures, out, pad + "    ")
                found = True
    if not found:
        failures.add(FailureTuple(obj, name, parent))
    return False
