"""How many tasks the state API's task table keeps, read when a session starts; apart from
`simray._sim.state` (which re-exports it) so that a session loads the state API only when a
program calls it."""

from __future__ import annotations

import os

# Ray 2.60's default for RAY_task_events_max_num_task_in_gcs (ray_config_def.h).
DEFAULT_MAX_TASKS = 100_000
_CAP_ENV = "RAY_task_events_max_num_task_in_gcs"


def task_table_cap() -> int | float:
    """How many tasks the state API keeps: `RAY_task_events_max_num_task_in_gcs`, default
    100,000 as in Ray; 0 or less keeps every task (Ray then never evicts either)."""
    text = os.environ.get(_CAP_ENV)
    if text is None:
        return DEFAULT_MAX_TASKS
    try:
        cap = int(text)
    except ValueError:
        raise ValueError(
            f"{_CAP_ENV} must be an integer (the most tasks the state API keeps), got {text!r}; "
            f"unset it for Ray's default of {DEFAULT_MAX_TASKS}"
        ) from None
    return cap if cap > 0 else float("inf")
