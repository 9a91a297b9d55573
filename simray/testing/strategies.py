"""Hypothesis strategies for property tests of Ray programs: seeds, cluster shapes, task graphs.

Importable only where hypothesis is installed (`pip install simray[test]`). The cluster shapes
are lists of `Cluster.add_node` arguments (the head first), the form `@pytest.mark.simray(nodes=
...)` and `simray.testing.scenarios` take.

Example:
    @given(nodes=cluster_shapes(max_nodes=3), seed=seeds())
    def test_every_task_runs(nodes, seed):
        ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as e:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "simray.testing.strategies needs hypothesis: pip install 'simray[test]' (or hypothesis)"
    ) from e

ACCELERATOR_TYPES = ("A100", "H100", "L4", "T4", "TPU-V4")
MAX_SEED = 2**32 - 1


def seeds(max_seed: int = MAX_SEED) -> st.SearchStrategy[int]:
    """Simulator seeds; 0 (the unexplored order) shrinks first."""
    return st.integers(min_value=0, max_value=max_seed)


@st.composite
def node_specs(
    draw: Any,
    max_cpus: int = 8,
    max_gpus: int = 4,
    accelerator_types: Sequence[str] = ACCELERATOR_TYPES,
    custom_resources: Sequence[str] = (),
) -> dict[str, Any]:
    """One node: CPUs, maybe GPUs of one accelerator type, maybe custom resources."""
    spec: dict[str, Any] = {"num_cpus": draw(st.integers(0, max_cpus))}
    gpus = draw(st.integers(0, max_gpus))
    if gpus:
        spec["num_gpus"] = gpus
        if accelerator_types:
            accelerator = draw(st.none() | st.sampled_from(list(accelerator_types)))
            if accelerator is not None:
                spec["accelerator_type"] = accelerator
    if custom_resources:
        chosen = draw(st.lists(st.sampled_from(list(custom_resources)), unique=True))
        if chosen:
            spec["resources"] = {name: draw(st.integers(1, 4)) for name in chosen}
    return spec


def cluster_shapes(
    min_nodes: int = 1,
    max_nodes: int = 4,
    max_cpus: int = 8,
    max_gpus: int = 4,
    accelerator_types: Sequence[str] = ACCELERATOR_TYPES,
    custom_resources: Sequence[str] = (),
    head_cpus: int = 1,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A cluster: a head with at least `head_cpus` CPUs (the driver's node) and worker nodes."""
    if min_nodes < 1:
        raise ValueError(f"a cluster has at least one node (the head): min_nodes={min_nodes}")
    if max_nodes < min_nodes:
        raise ValueError(f"max_nodes must be >= min_nodes, got {max_nodes} < {min_nodes}")
    node = node_specs(max_cpus, max_gpus, accelerator_types, custom_resources)
    head = node.map(lambda spec: {**spec, "num_cpus": max(spec["num_cpus"], head_cpus)})
    workers = st.lists(node, min_size=min_nodes - 1, max_size=max_nodes - 1)
    return st.tuples(head, workers).map(lambda hw: [hw[0], *hw[1]])


@st.composite
def task_graphs(
    draw: Any, max_tasks: int = 12, max_deps: int = 3, max_duration: float = 10.0
) -> list[dict[str, Any]]:
    """A DAG of tasks: each has a virtual duration and depends on up to `max_deps` earlier ones.

    Returns `[{"duration": s, "deps": [i, ...]}, ...]`; run task i after its deps, in order.
    """
    n = draw(st.integers(1, max_tasks))
    graph = []
    for i in range(n):
        deps = (
            draw(st.lists(st.integers(0, i - 1), max_size=min(max_deps, i), unique=True))
            if i
            else []
        )
        duration = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, max_duration]))
        graph.append({"duration": duration, "deps": sorted(deps)})
    return graph


__all__ = ["ACCELERATOR_TYPES", "cluster_shapes", "node_specs", "seeds", "task_graphs"]
