"""Export of remote functions and actor classes at their first `.remote()`, as Ray does:
`__main__` code is cloudpickled and loaded back, so the globals it reads are captured then.
"""

from __future__ import annotations

from typing import Any

from simray._sim.objects import pack, unpack


class Exports:
    """Mixed into SimBackend: what runs for each remote function and actor class."""

    exported: dict[Any, Any]  # provided by SimBackend: target -> what runs for it

    def export(self, target: Any) -> Any:
        """What runs for a remote function or actor class: as Ray exports it at its first
        `.remote()` of the session, cloudpickled and loaded back, so the `__main__` globals it
        uses are captured then (`x = 3; r = f.remote(); x = 4` and `f` still sees 3). Code of
        importable modules is pickled by reference, as by Ray, so it is used as it is and its
        module state stays shared; a target that cannot be pickled runs as it is."""
        exported = target
        if getattr(target, "__module__", None) == "__main__" and _reads_globals(target):
            try:
                exported = unpack(pack(target))
                _keep_filenames(exported, target)
            except Exception:  # noqa: BLE001 - run the original: one interpreter, shared state
                exported = target
        self.exported[target] = exported
        return exported


def _reads_globals(target: Any) -> bool:
    """Whether exporting could change what `target` sees: its code names a global (a
    function or class that names none runs the same copied or not, without loading
    cloudpickle)."""
    codes = (
        [target.__code__]
        if hasattr(target, "__code__")
        else [
            getattr(v, "__func__", v).__code__
            for v in vars(target).values()
            if hasattr(getattr(v, "__func__", v), "__code__")
        ]
    )
    return any(code.co_names for code in codes)


def _keep_filenames(copy: Any, original: Any) -> None:
    """cloudpickle names the code of what it pickles by value `<dynamic-code>`; Ray's worker
    shows the script's file and lines in tracebacks, so the copy gets the original's names."""
    import types

    def refile(code: types.CodeType, filename: str) -> types.CodeType:
        consts = tuple(
            refile(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts
        )
        return code.replace(co_filename=filename, co_consts=consts)

    if isinstance(copy, types.FunctionType):
        copy.__code__ = refile(copy.__code__, original.__code__.co_filename)
        return
    for name, value in vars(copy).items():
        fn = getattr(value, "__func__", value)
        source = getattr(vars(original).get(name), "__func__", vars(original).get(name))
        if isinstance(fn, types.FunctionType) and isinstance(source, types.FunctionType):
            fn.__code__ = refile(fn.__code__, source.__code__.co_filename)
