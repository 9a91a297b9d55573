"""Ids of one session: tasks and objects are numbered in submission order, from 1.

Every backend that numbers its own objects (sim, local) takes them from one `IdAllocator`, so the
numbering rule lives in one place and parts of a backend never bump each other's counters.
"""

from __future__ import annotations


class IdAllocator:
    """Hands out increasing integer ids for tasks and objects (separate sequences)."""

    __slots__ = ("task", "object")

    def __init__(self) -> None:
        self.task = 0  # the last id handed out
        self.object = 0

    def new_task(self) -> int:
        self.task += 1
        return self.task

    def new_object(self) -> int:
        self.object += 1
        return self.object
