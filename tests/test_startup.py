"""What `import simray` and a sim session load: heavy modules wait until a program needs them.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from simray import _cli, _digests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("asyncio", "logging", "filelock", "cloudpickle", "inspect")


def run_python(code: str) -> str:
    env = dict(os.environ)
    env.pop("SIMRAY_BACKEND", None)
    env.pop("SIMRAY_TRACE", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def loaded_after(code: str) -> list[str]:
    out = run_python(f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    return eval(out.strip().splitlines()[-1])


def test_import_simray_loads_no_heavy_module():
    assert loaded_after("import simray") == []


def test_a_sim_session_without_copies_or_locks_loads_no_heavy_module():
    code = (
        "import simray\n"
        "simray.init()\n"
        "f = simray.remote(lambda x: x + 1)\n"
        "assert simray.get(f.remote(1)) == 2\n"
        "simray.shutdown()\n"
    )
    assert loaded_after(code) == []


def test_lazy_names_of_the_package_face_resolve():
    out = run_python(
        "import simray\n"
        "from simray.util import SignalActor\n"
        "from simray.exceptions import GetTimeoutError\n"
        "print(simray.util.Semaphore.__name__, SignalActor.__name__, GetTimeoutError.__name__)\n"
        "print(all(n in dir(simray) for n in ('exceptions', 'sim', 'util')))\n"
    )
    assert out == "Semaphore SignalActor GetTimeoutError\nTrue\n"


def test_unknown_attributes_still_raise():
    out = run_python(
        "import simray, simray.util\n"
        "for mod in (simray, simray.util):\n"
        "    try:\n"
        "        mod.no_such_name\n"
        "    except AttributeError as e:\n"
        "        print(e)\n"
    )
    assert out == (
        "module 'simray' has no attribute 'no_such_name'\n"
        "module 'simray.util' has no attribute 'no_such_name'\n"
    )


def test_filelock_imported_during_a_session_is_virtualised_then_restored(tmp_path):
    lock_path = str(tmp_path / "x.lock")
    out = run_python(
        "import sys, time, simray\n"
        "simray.init()\n"
        "assert 'filelock' not in sys.modules\n"
        "import filelock\n"
        "@simray.remote\n"
        "def hold():\n"
        f"    with filelock.FileLock({lock_path!r}):\n"
        "        time.sleep(5)\n"
        "    return simray.sim.now()\n"
        "print(simray.get([hold.remote(), hold.remote()]))\n"
        "simray.shutdown()\n"
        "print(filelock.BaseFileLock.acquire.__module__.startswith('filelock'))\n"
        "print(any(type(f).__name__ == '_PatchOnImport' for f in sys.meta_path))\n"
    )
    assert out == "[5.0, 10.0]\nTrue\nFalse\n"


TOKENS = (
    "exec", "--backend", "--seed", "--trace", "sim", "local", "ray", "bogus", "3", "-3", " 4",
    "x", "x.py", "--", "-", "-h", "--help", "--backend=sim", "--see", "--tr", "-x", "",
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=7))
def test_plain_exec_arguments_read_as_the_argparse_parser_reads_them(words):
    """The fast reading of `simray exec ...` (no argparse) accepts only what the parser reads
    the same way; everything else is left to the parser (None)."""
    argv = ["exec", *words]
    plain = _cli._plain_exec_args(argv)
    if plain is None:
        return
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        args = _cli._parser().parse_args(argv)  # SystemExit here would fail the test
    assert plain == (args.script, args.args, args.backend, args.seed, args.trace)


def test_plain_exec_arguments_cover_the_usual_forms():
    assert _cli._plain_exec_args(["exec", "a.py"]) == ("a.py", [], None, None, None)
    assert _cli._plain_exec_args(
        ["exec", "--backend", "sim", "--seed", "7", "--trace", "t.jsonl", "a.py", "-v", "x"]
    ) == ("a.py", ["-v", "x"], "sim", 7, "t.jsonl")
    for argv in (["exec", "--backend=sim", "a.py"], ["exec", "-h"], ["timeline", "t"], ["exec"]):
        assert _cli._plain_exec_args(argv) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 64), st.binary(max_size=16))
def test_builtin_digests_are_hashlibs(data, size, salt):
    """Session ids hash with CPython's built-in sha256/blake2b (no OpenSSL): same bytes."""
    import hashlib

    assert _digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert (
        _digests.blake2b(data, digest_size=size, salt=salt).digest()
        == hashlib.blake2b(data, digest_size=size, salt=salt).digest()
    )


def test_exec_of_init_and_shutdown_leaves_unneeded_modules_unloaded(tmp_path):
    """`simray exec` of a script that only starts and stops a sim session loads none of the
    modules it has no use for (each costs start-up CPU): the argparse parser, runpy.run_path's
    pkgutil, importlib.abc, OpenSSL's hashlib, the state API, simray.cluster, traceback, json,
    pickle.py (the C unpickler serves until a value is copied)."""
    unneeded = (
        "argparse", "pkgutil", "importlib.abc", "hashlib", "_hashlib", "simray._sim.state",
        "simray.cluster", "simray.util.accelerators", "traceback", "json", "ctypes", "pickle",
    )  # fmt: skip
    script = tmp_path / "init_shutdown.py"
    script.write_text(
        "import sys, ray\n"
        "ray.init()\n"
        "ray.shutdown()\n"
        f"print(sorted(m for m in {unneeded!r} if m in sys.modules))\n"
    )
    env = dict(os.environ)
    env.pop("SIMRAY_BACKEND", None)
    env.pop("SIMRAY_TRACE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "simray", "exec", "--backend", "sim", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"
