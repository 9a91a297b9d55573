"""`simray exec` end to end, in subprocesses: stdout, exit codes and argv pass through, `import
ray` resolves to simray, backend/seed/trace selection, and import hygiene of `simray`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT, run_simray


def write(tmp_path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return str(path)


def exec_script(tmp_path, source: str, *args: str, env: dict[str, str] | None = None, opts=()):
    script = write(tmp_path, "prog.py", source)
    return run_simray("exec", *opts, script, *args, cwd=str(tmp_path), env=env, timeout=120)


# -- pass-through ------------------------------------------------------------------------------


def test_stdout_and_exit_code_zero(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        print("hello")
        print("name", __name__)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello\nname __main__\n"


def test_sys_exit_code_passes_through(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import sys
        print("before exit", flush=True)
        sys.exit(3)
        print("never")
        """,
    )
    assert proc.returncode == 3
    assert proc.stdout == "before exit\n"


def test_sys_exit_zero_and_none(tmp_path):
    assert exec_script(tmp_path, "import sys; sys.exit(0)").returncode == 0
    assert exec_script(tmp_path, "import sys; sys.exit()").returncode == 0


def test_sys_exit_with_a_message_exits_one_with_the_message_on_stderr(tmp_path):
    proc = exec_script(tmp_path, "import sys; sys.exit('fatal: giving up')")
    assert proc.returncode == 1
    assert "fatal: giving up" in proc.stderr


def test_uncaught_exception_exits_one_with_traceback(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        print("started")

        def fail():
            raise ValueError("boom in script")

        fail()
        """,
    )
    assert proc.returncode == 1
    assert proc.stdout == "started\n"
    assert "Traceback (most recent call last):" in proc.stderr
    assert "prog.py" in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: boom in script")


def test_uncaught_exception_from_a_task(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import ray

        @ray.remote
        def bad():
            raise KeyError("missing")

        ray.get(bad.remote())
        """,
    )
    assert proc.returncode == 1
    assert "KeyError" in proc.stderr
    assert "missing" in proc.stderr


def test_script_arguments_reach_sys_argv(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import json, os, sys
        print(os.path.basename(sys.argv[0]))
        print(json.dumps(sys.argv[1:]))
        """,
        "a",
        "--flag",
        "b c",
        "--seed",
        "9",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "prog.py"
    assert json.loads(lines[1]) == ["a", "--flag", "b c", "--seed", "9"]


def test_script_directory_is_importable(tmp_path):
    write(tmp_path, "helper_mod.py", "VALUE = 41\n")
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    proc = run_simray(
        "exec",
        write(tmp_path, "prog.py", "import helper_mod\nprint(helper_mod.VALUE + 1)\n"),
        cwd=str(sub),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "42\n"


# -- import ray ----------------------------------------------------------------------------------


def test_import_ray_resolves_to_simray(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import ray
        import simray
        print(ray.__name__)
        print(ray is simray)

        @ray.remote
        def add(a, b):
            return a + b

        ray.init(num_cpus=2)
        print(ray.get(add.remote(1, 2)))
        ray.shutdown()
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "simray\nTrue\n3\n"


def test_ray_submodules_import(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import ray.util.accelerators
        import ray.exceptions
        import ray.util.scheduling_strategies
        from ray.util.accelerators import NVIDIA_TESLA_V100
        from ray.exceptions import GetTimeoutError, RayTaskError
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        print(ray.util.accelerators.__name__)
        print(ray.exceptions.__name__)
        print(ray.util.scheduling_strategies.__name__)
        print(NVIDIA_TESLA_V100, issubclass(GetTimeoutError, TimeoutError))
        print(RayTaskError.__name__, NodeAffinitySchedulingStrategy.__name__)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "simray.util.accelerators",
        "simray.exceptions",
        "simray.util.scheduling_strategies",
        "V100 True",
        "RayTaskError NodeAffinitySchedulingStrategy",
    ]


def test_ray_cluster_utils_from_import(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        from ray.cluster_utils import Cluster
        print(Cluster.__module__)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "simray.cluster\n"


def test_ray_cluster_utils_attribute_after_import(tmp_path):
    # `import ray.cluster_utils` binds `ray`; the submodule must then be reachable as an
    # attribute, as with any package (and as with real Ray).
    proc = exec_script(
        tmp_path,
        """
        import ray.cluster_utils
        print(ray.cluster_utils.__name__)
        print(ray.cluster_utils.Cluster.__name__)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "simray.cluster\nCluster\n"


def test_unsupported_ray_submodule_names_backend_ray(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        print("start", flush=True)
        import ray.data
        print("not reached")
        """,
    )
    assert proc.returncode == 1
    assert proc.stdout == "start\n"
    assert "ModuleNotFoundError" in proc.stderr
    assert "ray.data" in proc.stderr
    assert "--backend ray" in proc.stderr


def test_unsupported_ray_submodule_from_import(tmp_path):
    proc = exec_script(tmp_path, "from ray.util.iter import from_items\n")
    assert proc.returncode == 1
    assert "ray.util.iter" in proc.stderr
    assert "--backend ray" in proc.stderr


def test_unsupported_submodule_can_be_caught_as_import_error(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        try:
            import ray.data
        except ImportError:
            print("no ray.data")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "no ray.data\n"


# -- backend selection -------------------------------------------------------------------------


_ON_WORKER = (
    "import os, ray\n"
    "@ray.remote\n"
    "def pid():\n"
    "    return os.getpid()\n"
    "print('other process', ray.get(pid.remote()) != os.getpid())\n"
)


def test_backend_local_flag_runs_tasks_in_worker_processes(tmp_path):
    proc = exec_script(tmp_path, _ON_WORKER, opts=("--backend", "local"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "other process True\n"


def test_backend_local_env_runs_tasks_in_worker_processes(tmp_path):
    proc = exec_script(tmp_path, _ON_WORKER, env={"SIMRAY_BACKEND": "local"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "other process True\n"


def test_unknown_backend_env_fails_with_exit_two(tmp_path):
    proc = exec_script(tmp_path, 'print("ran")\n', env={"SIMRAY_BACKEND": "bogus"})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "bogus" in proc.stderr


def test_unknown_backend_flag_is_a_usage_error(tmp_path):
    proc = exec_script(tmp_path, 'print("ran")\n', opts=("--backend", "bogus"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--backend" in proc.stderr


def test_backend_sim_flag(tmp_path):
    proc = exec_script(
        tmp_path,
        """
        import ray, simray
        ray.init()
        print(simray._session.active().name)
        """,
        opts=("--backend", "sim"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "sim\n"


# -- seed ----------------------------------------------------------------------------------------

SEED_SCRIPT = """
import ray
import simray
ray.init()
print(simray._session.active().seed)
"""


def test_seed_flag_reaches_the_session(tmp_path):
    proc = exec_script(tmp_path, SEED_SCRIPT, opts=("--seed", "17"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "17\n"


def test_seed_env_reaches_the_session(tmp_path):
    proc = exec_script(tmp_path, SEED_SCRIPT, env={"SIMRAY_SEED": "23"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "23\n"


def test_seed_flag_wins_over_env(tmp_path):
    proc = exec_script(tmp_path, SEED_SCRIPT, opts=("--seed", "5"), env={"SIMRAY_SEED": "9"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "5\n"


def test_default_seed_is_zero(tmp_path):
    proc = exec_script(tmp_path, SEED_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "0\n"


# -- trace ---------------------------------------------------------------------------------------

TRACE_SCRIPT = """
import ray

@ray.remote
def square(x):
    return x * x

ray.init(num_cpus=2)
print(sum(ray.get([square.remote(i) for i in range(4)])))
"""


def _trace_events(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    assert lines, "trace file is empty"
    return [json.loads(line) for line in lines]


def test_trace_flag_writes_json_lines(tmp_path):
    proc = exec_script(tmp_path, TRACE_SCRIPT, opts=("--trace", "run.trace"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "14\n"
    events = _trace_events(tmp_path / "run.trace")
    for event in events[:5]:
        assert {"t", "event"} <= set(event)
        assert isinstance(event["t"], (int, float))
        assert isinstance(event["event"], str)
    names = [e["event"] for e in events]
    assert "submit" in names
    assert "start" in names
    assert "finish" in names


def test_trace_is_identical_across_runs(tmp_path):
    a = exec_script(tmp_path, TRACE_SCRIPT, opts=("--seed", "3", "--trace", "a.trace"))
    b = exec_script(
        tmp_path,
        TRACE_SCRIPT,
        opts=("--seed", "3", "--trace", "b.trace"),
        env={"PYTHONHASHSEED": "12345"},
    )
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    assert (tmp_path / "a.trace").read_bytes() == (tmp_path / "b.trace").read_bytes()


def test_no_trace_file_without_trace_flag(tmp_path):
    proc = exec_script(tmp_path, TRACE_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog.py"]


# -- errors of the command itself ----------------------------------------------------------------


def test_missing_script_exits_two(tmp_path):
    proc = run_simray("exec", "no_such_script.py", cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no_such_script.py" in proc.stderr


def test_exec_without_script_is_a_usage_error(tmp_path):
    proc = run_simray("exec", cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert "script" in proc.stderr


def test_no_command_is_a_usage_error(tmp_path):
    proc = run_simray(cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


# -- entry points and import hygiene -------------------------------------------------------------


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_simray_does_not_import_ray(tmp_path):
    proc = _python("import simray, sys; assert 'ray' not in sys.modules", tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_importing_simray_does_not_import_hypothesis_or_matplotlib(tmp_path):
    proc = _python(
        "import simray, sys; "
        "bad = sorted(m for m in ('hypothesis', 'matplotlib') if m in sys.modules); "
        "assert not bad, bad",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr


def test_python_dash_m_simray_exec(tmp_path):
    script = write(tmp_path, "prog.py", "import ray\nprint(ray.__name__)\n")
    env = dict(os.environ)
    env.pop("SIMRAY_BACKEND", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "simray", "exec", script],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "simray\n"


def test_console_script_simray_exec(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "simray")
    assert os.path.exists(exe), "the `simray` console script is not installed next to python"
    script = write(tmp_path, "prog.py", "import ray, sys\nprint(ray.__name__)\nsys.exit(4)\n")
    env = dict(os.environ)
    env.pop("SIMRAY_BACKEND", None)
    proc = subprocess.run(
        [exe, "exec", script],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == "simray\n"
