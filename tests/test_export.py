"""Export semantics on sim: `__main__` code is cloudpickled at its first `.remote()` (globals
captured then); code of importable modules runs as it is, so module state stays shared."""

from __future__ import annotations

import pytest

import simray
from simray import _session

SEEN: list[int] = []


@simray.remote
def record(i):
    SEEN.append(i)
    return len(SEEN)


def test_importable_module_code_is_not_copied_and_its_state_is_shared():
    simray.init(num_cpus=1)
    SEEN.clear()
    assert simray.get([record.remote(1), record.remote(2)]) == [1, 2]
    assert SEEN == [1, 2]  # one interpreter: the documented limit
    backend = _session.active()
    assert all(fn is copy for fn, copy in backend.exported.items())


@pytest.mark.parametrize("latency", ["default", "0"])
def test_main_code_is_exported_once_with_its_globals(tmp_path, latency):
    """Latency 0 takes the submission fast path, which must export too."""
    from tests.conftest import run_simray

    script = tmp_path / "prog.py"
    script.write_text(
        "import ray\n"
        "n = 1\n"
        "@ray.remote\n"
        "def f():\n"
        "    return n\n"
        "r = f.remote()\n"
        "n = 2\n"
        "@ray.remote\n"
        "def boom():\n"
        "    raise ValueError(n)\n"
        "try:\n"
        "    ray.get(boom.remote())\n"
        "except ValueError as e:\n"
        "    print(ray.get(r), ray.get(f.remote()), 'prog.py' in str(e), 'raise ValueError' in str(e))\n"
    )
    env = {} if latency == "default" else {"SIMRAY_SIM_LATENCY": latency}
    proc = run_simray("exec", str(script), cwd=str(tmp_path), env=env)
    assert proc.stdout == "1 1 True True\n", proc.stderr
