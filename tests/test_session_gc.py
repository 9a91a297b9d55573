"""A sim session tunes the garbage collector for its many per-task objects, and gives the
user's settings back at shutdown."""

from __future__ import annotations

import gc

import simray


@simray.remote
def one() -> int:
    return 1


def test_a_session_restores_the_user_s_gc_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(1234, 5, 6)
    try:
        simray.init(num_cpus=2)
        assert gc.get_threshold() != (1234, 5, 6)  # the session's own while it runs
        assert simray.get([one.remote() for _ in range(100)]) == [1] * 100
        simray.shutdown()
        assert gc.get_threshold() == (1234, 5, 6)
    finally:
        gc.set_threshold(*before)
