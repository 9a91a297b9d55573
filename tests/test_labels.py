"""label_selector matching (simray._model.labels) against a direct reading of Ray's rules,
and Ray's validation messages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simray
from simray._model import labels

VALUES = st.sampled_from(["a", "b", "c", "h100"])
NODE = st.dictionaries(st.sampled_from(["zone", "gpu"]), VALUES, max_size=2)


@st.composite
def selector_values(draw):
    values = draw(st.lists(VALUES, min_size=1, max_size=3))
    negated = draw(st.booleans())
    text = values[0] if len(values) == 1 and draw(st.booleans()) else f"in({','.join(values)})"
    return ("!" if negated else "") + text, negated, set(values)


@given(NODE, st.dictionaries(st.sampled_from(["zone", "gpu"]), selector_values(), max_size=2))
def test_matches_each_condition(node, drawn):
    selector = {k: text for k, (text, _, _) in drawn.items()}
    assert labels.check_selector(selector) is None
    want = all(
        (node.get(k) in values) != negated
        if k in node
        else negated  # a node without the key satisfies only negated conditions
        for k, (_, negated, values) in drawn.items()
    )
    assert labels.matches(labels.parse(selector), node) is want


@given(NODE, st.dictionaries(st.sampled_from(["zone", "gpu"]), selector_values(), max_size=2))
def test_negation_is_the_complement(node, drawn):
    for key, (text, _, _) in drawn.items():
        plain = text.lstrip("!")
        yes = labels.matches(labels.parse({key: plain}), node)
        no = labels.matches(labels.parse({key: "!" + plain}), node)
        assert yes != no


def test_space_after_comma_is_kept_as_in_ray():
    assert labels.matches(labels.parse({"zone": "in(c, b)"}), {"zone": "c"})
    assert not labels.matches(labels.parse({"zone": "in(c, b)"}), {"zone": "b"})
    assert not labels.matches(labels.parse({"zone": "(b,c)"}), {"zone": "b"})


@pytest.mark.parametrize(
    ("selector", "start"),
    [
        ({"zone": "-a"}, "Invalid label selector value `-a`."),
        ({"-z": "a"}, "Invalid label key name `-z`."),
        ({"a/b/c": "x"}, "Invalid label key prefix `a/b`."),
        ({"zone": "in()"}, "Invalid label selector value `in()`."),
        ({"zone": "!!a"}, "Invalid label selector value `!!a`."),
    ],
)
def test_bad_selectors_get_rays_message(selector, start):
    message = labels.check_selector(selector)
    assert message is not None
    assert message.startswith(start)


def test_options_reject_a_bad_selector():
    import simray as ray

    @ray.remote
    def f():
        return 1

    with pytest.raises(ValueError, match="Invalid label selector value `-a`"):
        f.options(label_selector={"zone": "-a"})
    with pytest.raises(TypeError, match="expected string or bytes-like object"):
        f.options(label_selector={"zone": 1})


def test_init_label_value_must_be_a_string():
    """Ray 2.60's raylet exits on a non-string label value (its ray.init then times out after a
    minute with "The current node timed out during startup"); simray refuses at once, with the
    raylet's reason and the fix."""
    import simray
    from simray.cluster import Cluster

    with pytest.raises(ValueError, match="'gpus' field in the node labels configuration is not"):
        simray.init(num_cpus=1, labels={"gpus": 2})
    assert not simray.is_initialized()
    with pytest.raises(ValueError, match=r"give every label value as a string, e.g. \{'k': '1'\}"):
        Cluster().add_node(num_cpus=1, labels={"k": 1})


def test_label_selector_infeasibility_gets_no_resource_notice(capsys):
    """Ray 2.60's default autoscaler judges a demand by its resources alone: a selector no node
    matches (or a demand only a non-matching node could hold) pends without a notice; a demand
    no node at all could hold gets the resources-only notice, as without a selector."""
    from simray.cluster import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4})
    cluster.add_node(num_cpus=1, labels={"zone": "a"})
    simray.init(address=cluster.address)
    try:

        @simray.remote(num_cpus=1)
        def f() -> int:
            return 1

        capsys.readouterr()
        pending = [
            f.options(label_selector={"zone": "b"}).remote(),
            f.options(label_selector={"zone": "a"}, num_cpus=2).remote(),
        ]
        assert simray.wait(pending, num_returns=2, timeout=30)[0] == []
        assert "No available node types" not in capsys.readouterr().out
        too_big = f.options(label_selector={"zone": "a"}, num_cpus=8).remote()
        assert simray.wait([too_big], timeout=30)[0] == []
        # On stdout at the monitor's first update after it was queued (every 5 s), as on Ray.
        notice = (
            "Error: No available node types can fulfill resource request {'CPU': 8.0}. Add "
            "suitable node types to this cluster to resolve this issue."
        )
        lines = [line for line in capsys.readouterr().out.splitlines() if notice in line]
        assert len(lines) == 1, lines
        assert "(autoscaler +35s)" in lines[0]
        for ref in [*pending, too_big]:
            simray.cancel(ref)
    finally:
        simray.shutdown()
        cluster.shutdown()
