"""Ray's autoscaler notices about infeasible demand on sim (`simray._sim.monitor`): on the
driver's stdout at the monitor's 5 s updates, a tip first (once per process), again 35 s later
while the request is still queued, off when RAY_SCHEDULER_EVENTS was 0 when read."""

import time

import pytest

import simray
from simray import _output
from simray.exceptions import DeadlockError
from simray.util.placement_group import placement_group, remove_placement_group

ERROR = (
    "Error: No available node types can fulfill resource request {}. Add suitable node types "
    "to this cluster to resolve this issue."
)


@pytest.fixture
def plain(monkeypatch):
    """Uncoloured lines, the tip not shown yet, notices on."""
    monkeypatch.setenv("RAY_COLOR_PREFIX", "0")
    monkeypatch.setattr(_output, "_tipped", False)
    monkeypatch.setattr(_output, "scheduler_events", True)


@simray.remote
def work():
    return 1


def test_notice_comes_at_the_next_update_on_stdout_and_again_35_s_later(plain, capsys):
    simray.init(num_cpus=2)
    time.sleep(7)
    ref = work.options(num_cpus=8).remote()  # queued at 7: the update at 10 reports it
    simray.wait([ref], timeout=40)  # to 47: the update at 45 reports it again
    simray.cancel(ref)
    time.sleep(60)  # cancelled: no more notices
    simray.shutdown()
    captured = capsys.readouterr()
    request = ERROR.format("{'CPU': 8.0}")
    assert captured.out == (
        f"(autoscaler +10s) {_output.AUTOSCALER_TIP}\n"
        f"(autoscaler +10s) {request}\n"
        f"(autoscaler +45s) {request}\n"
    )
    assert "No available node types" not in captured.err


def test_requests_in_rays_order_with_groups_and_the_tip_once(plain, capsys):
    simray.init(num_cpus=2)
    refs = [
        work.options(num_cpus=0, num_gpus=1).remote(),
        work.options(num_cpus=8).remote(),
        work.options(num_cpus=8).remote(),  # the same request: one notice
        work.options(num_cpus=1, resources={"custom": 1}).remote(),
    ]
    groups = [
        placement_group([{"CPU": 16}, {"CPU": 1}]),  # PACK: bundle by bundle
        placement_group([{"CPU": 2}, {"CPU": 2}], strategy="STRICT_PACK"),  # summed: {CPU: 4}
        placement_group([{"CPU": 32}, {"CPU": 32}], strategy="STRICT_SPREAD"),  # never reported
    ]
    simray.wait(refs, timeout=6)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"(autoscaler +5s) {_output.AUTOSCALER_TIP}"] + [
        f"(autoscaler +5s) {ERROR.format(r)}"
        for r in ("{'CPU': 1.0, 'custom': 1.0}", "{'CPU': 16.0}", "{'CPU': 8.0}", "{'CPU': 4.0}")
        + ("{'GPU': 1.0}",)
    ]
    for group in groups:
        remove_placement_group(group)
    later = work.options(num_cpus=0, resources={"other": 1}).remote()
    simray.wait([later], timeout=5)
    assert capsys.readouterr().out == f"(autoscaler +10s) {ERROR.format({'other': 1.0})}\n"
    simray.shutdown()


def test_no_notice_for_demand_that_waits_or_ends_before_the_update(plain, capsys):
    simray.init(num_cpus=2)

    @simray.remote(num_cpus=2)
    def hold():
        time.sleep(30)

    holding = hold.remote()
    waits = work.options(num_cpus=2).remote()  # feasible: it only waits for the CPUs
    doomed = work.options(num_cpus=8).remote()
    time.sleep(3)
    simray.cancel(doomed)  # gone before the update at 5
    assert simray.get([holding, waits]) == [None, 1]
    late = work.options(num_cpus=8).remote()
    time.sleep(1)
    simray.shutdown()  # at 31, before the update at 35: nothing, as on Ray
    assert late is not None
    assert capsys.readouterr().out == ""


def test_scheduler_events_0_when_read_turns_notices_off(plain, capsys, monkeypatch):
    monkeypatch.setenv("RAY_SCHEDULER_EVENTS", "0")
    _output.read_scheduler_events()
    assert _output.scheduler_events is False
    simray.init(num_cpus=2)
    ref = work.options(num_cpus=8).remote()
    simray.wait([ref], timeout=60)
    simray.shutdown()
    assert capsys.readouterr().out == ""
    for value, on in (("1", True), ("false", True), ("00", False), ("2", True)):
        monkeypatch.setenv("RAY_SCHEDULER_EVENTS", value)
        _output.read_scheduler_events()  # Ray's env_integer: a non-integer counts as unset
        assert _output.scheduler_events is on, value


def test_a_driver_blocked_on_infeasible_work_gets_the_deadlock_report(plain, capsys):
    simray.init(num_cpus=2)
    with pytest.raises(DeadlockError, match="infeasible"):
        simray.get(work.options(num_cpus=8).remote())
    simray.shutdown()


def test_notices_are_deterministic_and_colour_like_rays(monkeypatch, capsys):
    monkeypatch.delenv("RAY_COLOR_PREFIX", raising=False)
    outs = []
    for _ in range(2):
        monkeypatch.setattr(_output, "_tipped", False)
        monkeypatch.setattr(_output, "scheduler_events", True)
        simray.init(num_cpus=1)
        refs = [work.options(num_cpus=n).remote() for n in (2, 3)]
        simray.wait(refs, timeout=100)
        simray.shutdown()
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
    first = outs[0].splitlines()
    assert first[0] == f"\x1b[36m(autoscaler +5s)\x1b[0m {_output.AUTOSCALER_TIP}"
    assert first[1] == f"\x1b[33m(autoscaler +5s)\x1b[0m {ERROR.format({'CPU': 3.0})}"
    assert [line.split(")")[0] for line in first] == (
        ["\x1b[36m(autoscaler +5s"]
        + ["\x1b[33m(autoscaler +5s"] * 2
        + ["\x1b[33m(autoscaler +40s"] * 2
        + ["\x1b[33m(autoscaler +1m15s"] * 2
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0s"), (59.9, "59s"), (60, "60s"), (61, "1m1s"), (3600, "59m60s"), (3723, "1h2m3s")],
)
def test_time_string_is_rays(seconds, text):
    assert _output.time_string(seconds) == text
