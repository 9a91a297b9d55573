"""Real-Ray tests run one at a time: the markers go together, and xdist really groups them.

Under pytest 9.2, pytest-xdist 3.8 spread `xdist_group` tests over both workers (it sets a node
id that 9.2 no longer reads), so CI ran two real Rays at once. `conftest.py` applies the groups
itself and refuses a run where they are not applied; these tests check both.
"""

from __future__ import annotations

from tests.conftest import ROOT, real_ray_grouping_errors

pytest_plugins = ["pytester"]

MARKED = """
import pytest

@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_grouped():
    pass

@pytest.mark.real_ray
def test_marker_alone():
    pass

@pytest.mark.xdist_group(name="real_ray")
def test_group_alone():
    pass

def test_plain():
    pass
"""


def test_markers_must_go_together(pytester):
    errors = real_ray_grouping_errors(pytester.getitems(MARKED), loadgroup=None)
    assert [e.split(": ")[0].rsplit("::", 1)[1] for e in errors] == [
        "test_marker_alone",
        "test_group_alone",
    ]


def test_several_real_ray_tests_need_loadgroup(pytester):
    items = [i for i in pytester.getitems(MARKED) if i.name == "test_grouped"]
    assert real_ray_grouping_errors(items * 2, loadgroup=None) == []
    (error,) = real_ray_grouping_errors(items * 2, loadgroup=False)
    assert "add --dist loadgroup" in error
    (error,) = real_ray_grouping_errors(items * 2, loadgroup=True)  # no "@real_ray" suffix
    assert "did not apply the 'real_ray' group" in error
    assert real_ray_grouping_errors(items, loadgroup=False) == []  # one alone: nothing to race


def test_loadgroup_puts_the_group_on_one_worker(pytester):
    """Under this pytest and pytest-xdist, `--dist loadgroup` runs a group on one worker (with
    the suite's conftest, which applies the groups where xdist cannot)."""
    pytester.makeconftest(
        f"import sys\nsys.path.insert(0, {ROOT!r})\n"
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n"
    )
    pytester.makepyfile(
        f"""
        import os, time, pytest

        @pytest.mark.xdist_group("real_ray")
        @pytest.mark.parametrize("i", range(4))
        def test_where(i):
            time.sleep(0.2)
            with open(os.path.join({str(pytester.path)!r}, f"ran-{{i}}"), "w") as f:
                f.write(os.environ["PYTEST_XDIST_WORKER"])
        """
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=4)
    workers = {p.read_text() for p in pytester.path.glob("ran-*")}
    assert len(workers) == 1, workers
