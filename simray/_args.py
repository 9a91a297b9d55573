"""Argument packing at submission: Ray serializes a task's arguments when it is submitted.

`ArgPacker` is shared by the backends that copy arguments themselves (sim, local): top-level refs
are kept to be resolved before the call, everything else is packed by the backend's `pack`, and a
value that cannot be pickled fails at `.remote()` with an error that says why and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simray._object_ref import ObjectRef


class ArgPacker:
    """`packer(value, fn_name)`: the stored form of one argument of a call to `fn_name`."""

    __slots__ = ("pack", "ref_type", "adopt")

    def __init__(
        self,
        pack: Callable[[Any], Any],
        ref_type: type,
        adopt: Callable[[Any], Any] | None = None,
    ):
        self.pack = pack
        self.ref_type = ref_type
        self.adopt = adopt  # the backend's ref for a ref rebuilt from its id, if it has one

    def __call__(self, value: Any, fn_name: str) -> Any:
        if type(value) is self.ref_type:
            return value  # a top-level ref: resolved to its value before the task runs
        if self.adopt is not None and type(value) is ObjectRef:
            return self.adopt(value)  # rebuilt from its id: resolved like the ref it names
        try:
            return self.pack(value)
        except Exception as e:
            raise TypeError(
                f"Could not serialize the argument {value!r} for a task or actor {fn_name}: "
                f"{type(e).__name__}: {e}. Arguments cross task boundaries as copies "
                "(cloudpickle); pass a picklable value, or create the object inside the task."
            ) from e
