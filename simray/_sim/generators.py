"""Generator tasks and actor calls on the sim backend: streaming (`ObjectRefGenerator`, with
backpressure) and dynamic (`DynamicObjectRefGenerator`); each `yield` stores its value at
that virtual instant.
"""

from __future__ import annotations

from typing import Any

from simray import _ids
from simray._sim.kernel import Kernel
from simray._sim.objects import READY, SimRef, new_ref, pack
from simray._sim.tasks import Task


class Generators:
    """Mixed into SimBackend: the streams of its generator tasks and calls."""

    # Provided by SimBackend.
    kernel: Kernel
    ids: Any
    streams: dict[int, Any]
    generating: dict[int, str]

    def start_stream(self, unit: Any, mode: str, raw: dict[str, Any]) -> Any:
        """Register a generator task or call (`mode` "streaming" or "dynamic"); for streaming,
        the ObjectRefGenerator its caller gets (its completion ref set by the caller)."""
        key = unit.task_id if type(unit) is Task else unit.call_id
        self.generating[key] = mode
        if mode != "streaming":
            return None
        from simray._generator import ObjectRefGenerator, Stream

        backpressure = raw.get("_generator_backpressure_num_objects")
        stream = self.streams[key] = Stream(_internal_ref, backpressure)
        return ObjectRefGenerator(stream, None, self)

    def end_stream(self, key: int) -> None:
        """The generator task or call ended (any way): its stream ends."""
        self.generating.pop(key, None)
        stream = self.streams.pop(key, None)
        if stream is not None:
            stream.done = True
            stream.changed()

    def _stored_yield(self, unit: Any, value: Any, key: int, collected: list[Any]) -> Any:
        stream = self.streams.get(key)
        yielded = len(collected) if stream is None else len(stream.items)
        ref = new_ref(_ids.object_number(key, yielded + 2, _actor_number(unit)))  # Ray's index
        try:
            ref.resolve(READY, pack(value))
        except Exception as e:
            raise TypeError(
                f"Could not serialize a value yielded by {_unit_name(unit)}: {e}"
            ) from e
        if stream is None:
            collected.append(ref)
            return None
        stream.items.append(ref)
        stream.changed()
        return stream

    def drive_generator(self, unit: Any, gen: Any) -> Any:
        """Run a generator's body: each `yield` stores a value at that virtual instant
        (streaming: appended to the stream, the producer waiting while the backpressure limit
        of refs is unread; dynamic: collected into the one value)."""
        key = unit.task_id if type(unit) is Task else unit.call_id
        if not hasattr(gen, "__next__"):
            raise TypeError(
                f"{_unit_name(unit)} was declared with num_returns="
                f"{self.generating.get(key)!r} but returned {type(gen).__name__}, not a "
                "generator; use `yield` in the function"
            )
        collected: list[Any] = []
        for value in gen:
            stream = self._stored_yield(unit, value, key, collected)
            while (
                stream is not None
                and stream.backpressure
                and (stream.unread() >= stream.backpressure)
            ):
                stream.producer = unit
                self.kernel.block(("objects", [stream.signal()]))
        return self._generator_result(key, collected)

    async def drive_async_generator(self, unit: Any, gen: Any) -> Any:
        """`drive_generator` for an async generator method of an async actor (no backpressure:
        the actor's event loop must keep running)."""
        key = unit.call_id
        if not hasattr(gen, "__anext__"):
            return self.drive_generator(unit, gen)
        collected: list[Any] = []
        async for value in gen:
            self._stored_yield(unit, value, key, collected)
        return self._generator_result(key, collected)

    def _generator_result(self, key: int, collected: list[Any]) -> Any:
        if self.generating.get(key) == "dynamic":
            from simray._generator import DynamicObjectRefGenerator

            return DynamicObjectRefGenerator(collected)
        return None


def _unit_name(unit: Any) -> str:
    if type(unit) is Task:
        return f"{unit.name}()"
    return f"{unit.actor.opts.class_name}.{unit.method}()"


def _actor_number(unit: Any) -> int:
    """The actor whose call `unit` is (0 for a task): part of its objects' ids."""
    return 0 if type(unit) is Task else unit.actor.actor_id


def _internal_ref() -> SimRef:
    """A pending ref with no number: a signal inside the backend, never handed to users."""
    return new_ref(0)
