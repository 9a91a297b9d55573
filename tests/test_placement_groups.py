"""Placement groups on the sim backend."""

from __future__ import annotations

import pytest

import simray
import simray.sim
from simray.cluster import Cluster
from simray.exceptions import DeadlockError, TaskPlacementGroupRemoved
from simray.util.placement_group import (
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)
from simray.util.scheduling_strategies import PlacementGroupSchedulingStrategy


@simray.remote
def where() -> tuple[str, list[int]]:
    return simray.get_runtime_context().get_node_id(), simray.get_gpu_ids()


def _cluster(nodes: int, cpus: int = 2, gpus: int = 0) -> Cluster:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus, "num_gpus": gpus})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=cpus, num_gpus=gpus)
    cluster.connect()
    return cluster


@pytest.mark.parametrize(
    ("strategy", "distinct_nodes"),
    [("PACK", 1), ("STRICT_PACK", 1), ("SPREAD", 3), ("STRICT_SPREAD", 3)],
)
def test_each_strategy_places_its_bundles(strategy, distinct_nodes):
    cluster = _cluster(3)
    pg = placement_group([{"CPU": 0.5}] * 3, strategy=strategy)
    assert simray.get(pg.ready()) == pg
    table = placement_group_table(pg)
    assert table["state"] == "CREATED"
    assert len(set(table["bundles_to_node_id"].values())) == distinct_nodes
    nodes = {
        simray.get(
            where.options(
                num_cpus=0.5,
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    pg, placement_group_bundle_index=i
                ),
            ).remote()
        )[0]
        for i in range(3)
    }
    assert nodes == set(table["bundles_to_node_id"].values())
    cluster.shutdown()


def test_reservation_shows_in_available_resources_and_removal_gives_it_back():
    simray.init(num_cpus=4, num_gpus=2)
    pg = placement_group([{"CPU": 1, "GPU": 1}, {"CPU": 1}], strategy="STRICT_PACK", name="train")
    assert pg.wait(timeout_seconds=1)
    assert simray.available_resources()["CPU"] == 2.0
    assert simray.available_resources()["GPU"] == 1.0
    assert get_placement_group("train") == pg
    in_bundle = where.options(
        num_gpus=1, scheduling_strategy=PlacementGroupSchedulingStrategy(pg, 0)
    )
    assert simray.get(in_bundle.remote())[1] in ([0], [1])
    remove_placement_group(pg)
    assert simray.available_resources()["CPU"] == 4.0
    assert placement_group_table(pg)["state"] == "REMOVED"
    with pytest.raises(TaskPlacementGroupRemoved):
        simray.get(in_bundle.remote())


def test_infeasible_group_stays_pending_and_is_named_in_a_deadlock():
    simray.init(num_cpus=2)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert pg.wait(timeout_seconds=3) is False
    assert simray.sim.now() == 3.0
    assert placement_group_table(pg)["state"] == "PENDING"
    with pytest.raises(
        DeadlockError, match=r"STRICT_SPREAD, 2 bundles\) is pending: it can never be placed"
    ):
        simray.get(pg.ready())


def test_child_tasks_are_captured_into_the_group():
    simray.init(num_cpus=4)
    pg = placement_group([{"CPU": 2}])
    simray.get(pg.ready())

    @simray.remote
    def child() -> bool:
        return simray.util.get_current_placement_group() == pg

    @simray.remote
    def parent() -> bool:
        return simray.get(child.remote())

    strategy = PlacementGroupSchedulingStrategy(pg, placement_group_capture_child_tasks=True)
    assert simray.get(parent.options(scheduling_strategy=strategy).remote()) is True


def test_bad_strategy_and_empty_bundles_are_refused():
    simray.init(num_cpus=1)
    with pytest.raises(ValueError, match=r"^Invalid placement group strategy NOPE"):
        placement_group([{"CPU": 1}], strategy="NOPE")
    with pytest.raises(ValueError, match=r"^Bundles cannot be an empty dictionary"):
        placement_group([{}])
