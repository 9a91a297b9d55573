"""Ray Core names beyond tasks and actors on sim: timeline, IDs, runtime context, util helpers."""

from __future__ import annotations

import json
import time

import pytest

import simray
from simray.actor import exit_actor


@simray.remote
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_timeline_has_one_slice_per_task_with_virtual_durations(tmp_path):
    simray.init(num_cpus=2, trace=True)
    simray.get([nap.remote(1.0), nap.remote(2.0), nap.remote(3.0)])
    events = simray.timeline()
    slices = sorted((e["dur"], e["name"]) for e in events if e.get("cat") == "task")
    assert slices == [(1e6, "nap"), (2e6, "nap"), (3e6, "nap")]
    path = tmp_path / "timeline.json"
    assert simray.timeline(str(path)) is None
    assert json.loads(path.read_text()) == events


def test_timeline_without_a_trace_says_how_to_record_one():
    simray.init(num_cpus=1)
    with pytest.raises(RuntimeError, match=r"init\(trace=True\)"):
        simray.timeline()


def test_timeline_before_init_is_ray_s_error():
    with pytest.raises(RuntimeError, match="Ray has not been started yet"):
        simray.timeline()


def test_ids_are_the_same_on_every_run_with_a_seed():
    def ids() -> list[str]:
        simray.init(num_cpus=2, seed=7)

        @simray.remote
        def where() -> tuple[str, str, str]:
            ctx = simray.get_runtime_context()
            return ctx.get_task_id(), ctx.get_worker_id(), ctx.get_node_id()

        out = list(simray.get(where.remote()))
        simray.shutdown()
        return out

    assert ids() == ids()


def test_exit_actor_runs_atexit_handlers_and_keeps_the_name_while_a_handle_lives():
    simray.init(num_cpus=2)
    ran = []

    @simray.remote
    class Leaver:
        def __init__(self):
            import atexit

            atexit.register(ran.append, "bye")

        def leave(self):
            exit_actor()

    a = Leaver.options(name="leaver").remote()
    with pytest.raises(simray.exceptions.ActorDiedError):
        simray.get(a.leave.remote())
    assert ran == ["bye"]
    assert simray.get_actor("leaver") is not None
    with pytest.raises(simray.exceptions.ActorDiedError):
        simray.get(a.leave.remote())


def test_ray_ready_answers_true_once_the_actor_is_alive():
    simray.init(num_cpus=1)

    @simray.remote
    class Slow:
        def __init__(self):
            time.sleep(5)

    a = Slow.remote()
    assert simray.get(a.__ray_ready__.remote()) is True
    assert simray.sim.now() == 5.0
