"""`ray.experimental.tqdm_ray.tqdm`: a progress bar that works from inside tasks and actors.

Ray relays bar updates from workers to the driver, which draws them; on `sim` everything runs in
the driver's process, so the bar writes its state to stderr, one line per refresh (at most once
per `flush_interval_s` of virtual time, and at close).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any


class tqdm:  # noqa: N801 - Ray's name
    """`tqdm(iterable=None, desc=None, total=None, position=None, flush_interval_s=1.0)`."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        desc: str | None = None,
        total: int | None = None,
        unit: str | None = None,
        position: int | None = None,
        flush_interval_s: float = 1.0,
    ):
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except (TypeError, AttributeError):
                total = None
        self._iterable = iterable
        self._desc = desc or ""
        self._total = total
        self._unit = unit or "it"
        self._x = 0
        self._closed = False
        self._flush_interval_s = flush_interval_s
        self._last_flush = time.time()

    def __iter__(self) -> Iterator[Any]:
        if self._iterable is None:
            raise ValueError("No iterable provided")
        for item in self._iterable:
            self.update(1)
            yield item
        self.close()

    def set_description(self, desc: str) -> None:
        self._desc = desc
        self._dump()

    def update(self, n: int = 1) -> None:
        self._x += n
        now = time.time()
        if now - self._last_flush >= self._flush_interval_s:
            self._last_flush = now
            self._dump()

    def refresh(self) -> None:
        self._dump()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._dump()

    def _dump(self) -> None:
        total = f"/{self._total}" if self._total is not None else ""
        desc = f"{self._desc}: " if self._desc else ""
        print(f"{desc}{self._x}{total} {self._unit}", file=sys.stderr, flush=True)


def safe_print(*args: Any, **kwargs: Any) -> None:
    """Print without garbling the bars (bars are plain lines here, so plain print)."""
    print(*args, **kwargs)
