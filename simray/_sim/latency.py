"""The latency model of the sim backend: what each remote operation costs in virtual time.

On real Ray nothing remote is free: submitting a task, calling an actor and storing an object
take time, so a loop of remote calls advances the clock and a timeout around it fires. The
defaults were measured on real Ray 2.60 on the project's 2-core machine (medians of 200 round
trips after warm-up, `benchmarks/measure_latency.py`):

| operation | default | measured as |
|---|---|---|
| `task` | 1.7 ms | `ray.get(noop.remote())`: submission to result of a no-op task |
| `actor_call` | 0.65 ms | `ray.get(actor.noop.remote())` on a live actor |
| `put` | 0.85 ms | `ray.put(small)` |
| `per_byte` | 2.3 ns | `ray.put` of 10 MB minus 1 MB, per byte (a copy into the store) |

A task's cost is paid between its submission and its entering the scheduler queue, an actor
call's between its submission and its entering the mailbox (so calls keep their order), and a
`put` blocks its caller for `put + size * per_byte`. Objects are not charged again when a task
reads them (Ray hands them over through shared memory on one node); transfers between nodes are
not modelled apart from that.

`SIMRAY_SIM_LATENCY` or `init(_latency=...)` choose the model: `0` is the zero-cost model (every
remote operation instantaneous, as before there was a model), a number gives every per-operation
cost that many seconds (and `per_byte` 0), `key=value,...` overrides single defaults
(`task=0.002,put=0`).
"""

from __future__ import annotations

import os
from typing import Any

_KEYS = ("task", "actor_call", "put", "per_byte")


class LatencyModel:
    """Virtual seconds charged per remote operation (see the module docstring).

    A plain class, not a dataclass: `dataclasses` imports `inspect`, which a sim session
    must not load at start.
    """

    __slots__ = _KEYS

    def __init__(
        self,
        task: float = 0.0017,
        actor_call: float = 0.00065,
        put: float = 0.00085,
        per_byte: float = 2.3e-9,
    ):
        self.task = task
        self.actor_call = actor_call
        self.put = put
        self.per_byte = per_byte

    def is_zero(self) -> bool:
        return not any(getattr(self, key) for key in _KEYS)

    def as_dict(self) -> dict[str, float]:
        return {key: getattr(self, key) for key in _KEYS}

    def as_text(self) -> str:
        """The `key=value,...` form that `SIMRAY_SIM_LATENCY` reads back."""
        return ",".join(f"{key}={getattr(self, key)!r}" for key in _KEYS)

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={getattr(self, key)!r}" for key in _KEYS)
        return f"LatencyModel({inner})"


def from_trace(first_line: str) -> str:
    """`SIMRAY_SIM_LATENCY` for replaying a recorded trace: the model its `latency` record
    states, or `0` for a trace without one (recorded under the zero-cost model)."""
    import json

    try:
        record = json.loads(first_line)
    except ValueError:
        return "0"
    if not isinstance(record, dict) or record.get("event") != "latency":
        return "0"
    return LatencyModel(**{key: float(record[key]) for key in _KEYS}).as_text()


def replace(model: LatencyModel, **changes: float) -> LatencyModel:
    return LatencyModel(**{key: changes.get(key, getattr(model, key)) for key in _KEYS})


DEFAULT = LatencyModel()
ZERO = LatencyModel(0.0, 0.0, 0.0, 0.0)


def resolve(value: Any) -> LatencyModel | None:
    """The model for `init(_latency=value)` (None: `SIMRAY_SIM_LATENCY`, else the defaults);
    None when every cost is 0, so the hot paths check one attribute."""
    if value is None:
        text = os.environ.get("SIMRAY_SIM_LATENCY")
        model = DEFAULT if text is None or not text.strip() else parse(text, "SIMRAY_SIM_LATENCY")
    elif isinstance(value, LatencyModel):
        model = value
    elif isinstance(value, str):
        model = parse(value, "_latency")
    elif isinstance(value, dict):
        model = _override(value, "_latency", repr(value))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        model = _uniform(float(value))
    else:
        raise ValueError(
            f"_latency must be a LatencyModel, a number of seconds >= 0, a dict or a "
            f"'key=value,...' string with keys {list(_KEYS)}; got {value!r}"
        )
    return None if model.is_zero() else model


def parse(text: str, where: str) -> LatencyModel:
    """`0`, `default`, a number of seconds, or `key=value,...` overriding the defaults."""
    text = text.strip()
    if text == "default":
        return DEFAULT
    if "=" not in text:
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if seconds < 0:
            raise ValueError(
                f"{where} must be 0, 'default', a number of seconds >= 0 or 'key=value,...' with "
                f"keys {list(_KEYS)}; got {text!r}"
            )
        return _uniform(seconds)
    pairs: dict[str, Any] = {}
    for part in text.split(","):
        key, _, raw = part.partition("=")
        pairs[key.strip()] = raw.strip()
    return _override(pairs, where, repr(text))


def _uniform(seconds: float) -> LatencyModel:
    return LatencyModel(seconds, seconds, seconds, 0.0)


def _override(pairs: dict[str, Any], where: str, shown: str) -> LatencyModel:
    changes: dict[str, float] = {}
    for key, raw in pairs.items():
        if key not in _KEYS:
            raise ValueError(
                f"{where}: unknown latency key {key!r} in {shown}; keys are {list(_KEYS)}"
            )
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            seconds = -1.0
        if seconds < 0:
            raise ValueError(f"{where}: {key} must be a number of seconds >= 0, got {raw!r}")
        changes[key] = seconds
    return replace(DEFAULT, **changes)
