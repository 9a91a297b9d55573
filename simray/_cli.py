"""The `simray` command: `exec` runs an unmodified Ray script on a chosen backend, `replay`
re-runs a scenario and checks its trace, `timeline` converts a trace; each subcommand's logic
lives in its own module."""

from __future__ import annotations

import io
import os
import runpy
import sys
from typing import TYPE_CHECKING

from simray import _session

if TYPE_CHECKING:
    import argparse
    import traceback

BACKEND_CHOICES = ("sim", "local", "ray")


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="simray", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "exec",
        help="run a Ray script with `import ray` resolving to simray",
        description="Run SCRIPT with `import ray` resolving to simray (or real Ray with "
        "--backend ray). Its stdout and exit code pass through unchanged.",
    )
    run.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default=None,
        help="default: $SIMRAY_BACKEND, else sim",
    )
    run.add_argument("--seed", type=int, default=None, help="default: $SIMRAY_SEED, else 0")
    run.add_argument(
        "--trace", metavar="FILE", default=None, help="write the sim trace (JSON lines) to FILE"
    )
    run.add_argument("script")
    run.add_argument("args", nargs=argparse.REMAINDER)
    timeline = sub.add_parser(
        "timeline",
        help="convert a sim trace to Chrome trace format (Perfetto, chrome://tracing)",
        description="Convert TRACE (JSON lines from `simray exec --trace`) to a Chrome trace: "
        "tasks as slices per node and worker, blocked intervals, node lifetimes, faults.",
    )
    timeline.add_argument("trace", metavar="TRACE")
    timeline.add_argument("-o", "--output", required=True, metavar="OUT", help="JSON file")
    replay = sub.add_parser(
        "replay",
        help="replay a scenario script on sim with its seed; record or check its trace",
        description="Run SCRIPT on sim with the seed it states (`# simray-replay: seed=N`, "
        "default 0) or --seed. --check RECORDED exits 0 when the new trace is byte-identical "
        "to RECORDED, else prints the first diverging event and exits 1.",
    )
    replay.add_argument("--seed", type=int, default=None, help="default: the script's, else 0")
    replay.add_argument("--trace", metavar="FILE", default=None, help="write the trace to FILE")
    replay.add_argument(
        "--check", metavar="RECORDED", default=None, help="compare with a recorded trace"
    )
    replay.add_argument("script")
    plan = sub.add_parser(
        "plan",
        help="capacity planning: a workload on an autoscaled cluster spec, in virtual time",
        description="Run the workload of SPEC (TOML) on its cluster with Ray's autoscaler; "
        "report makespan, waits, costs (see simray._plan).",
        add_help=False,
    )
    plan.add_argument("plan_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    plain = _plain_exec_args(argv)
    if plain is not None:
        return exec_script(*plain)
    if argv[:1] == ["plan"]:
        from simray._plan import main as plan_main

        return plan_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "timeline":
        from simray._timeline import timeline_main

        return timeline_main(args.trace, args.output)
    if args.command == "replay":
        from simray._replay import replay_main

        return replay_main(args.script, args.seed, args.trace, args.check)
    return exec_script(args.script, args.args, args.backend, args.seed, args.trace)


def _plain_exec_args(
    argv: list[str],
) -> tuple[str, list[str], str | None, int | None, str | None] | None:
    """`exec`'s arguments when `argv` has the plain form that `_parser` reads the same way
    (`exec [--backend B] [--seed N] [--trace F] SCRIPT ARGS...`, valid values given as separate
    words), else None; building and running the argparse parser costs ~9 ms of start-up, and
    every other form (help, `--opt=value`, abbreviations, errors) still goes through it."""
    if argv[:1] != ["exec"]:
        return None
    options: dict[str, str | None] = {"--backend": None, "--seed": None, "--trace": None}
    i = 1
    while i < len(argv) and argv[i] in options:
        if i + 1 == len(argv) or argv[i + 1].startswith("-"):
            return None
        options[argv[i]] = argv[i + 1]
        i += 2
    if i == len(argv) or argv[i].startswith("-") or "--" in argv[i + 1 :]:
        return None
    backend, seed, trace = options["--backend"], options["--seed"], options["--trace"]
    if backend is not None and backend not in BACKEND_CHOICES:
        return None
    try:
        number = None if seed is None else int(seed)
    except ValueError:
        return None
    return argv[i], argv[i + 1 :], backend, number, trace


def exec_script(
    script: str, script_args: list[str], backend: str | None, seed: int | None, trace: str | None
) -> int:
    """Run `script` as `__main__`; return its exit code."""
    if backend is not None:
        os.environ["SIMRAY_BACKEND"] = backend
    if seed is not None:
        os.environ["SIMRAY_SEED"] = str(seed)
    if trace is not None:
        os.environ["SIMRAY_TRACE"] = os.path.abspath(trace)
    try:
        chosen = _session.resolve_backend_name(None)
    except ValueError as e:
        print(f"simray exec: {e}", file=sys.stderr)
        return 2
    if not os.path.isfile(script):
        print(f"simray exec: no such script: {script}", file=sys.stderr)
        return 2
    if chosen != "ray":
        from simray import _ray_alias

        _ray_alias.install(lazy=True)
    sys.argv = [script, *script_args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    code = 0
    try:
        _run_script(script)
    except SystemExit as e:
        code = _exit_code(e)
    except BaseException as e:  # the script's own uncaught error: print it as Python would
        print_user_traceback(e)
        code = 1
    finally:
        if chosen != "ray":
            _session.shutdown()
    sys.stdout.flush()
    return code


def _run_script(script: str) -> None:
    """Run `script` as `__main__`, as `runpy.run_path(script, run_name="__main__")` does.

    A `.py` file is compiled here and run by the same runpy helper that `run_path` ends in:
    `run_path` imports pkgutil (~4 ms) only to find that a source file needs no importer. Any
    other file (a zip application, a directory, compiled code) goes through `run_path` itself.
    """
    if not script.endswith(".py"):
        runpy.run_path(script, run_name="__main__")
        return
    with io.open_code(os.path.abspath(script)) as f:
        # dont_inherit: this module's `from __future__ import annotations` stays out of the script
        code = compile(f.read(), script, "exec", dont_inherit=True)
    runpy._run_module_code(code, None, "__main__", pkg_name="", script_name=script)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frames(te: traceback.TracebackException) -> None:
    """Drop simray's own frames (and runpy's), as Ray hides its internal frames."""
    import traceback

    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list(
            [
                f
                for f in te.stack
                if not f.filename.startswith(_PACKAGE_DIR) and "runpy" not in f.filename
            ]
        )
        te = te.__cause__ or te.__context__  # type: ignore[assignment]


def print_user_traceback(e: BaseException) -> None:
    """Print an uncaught error of the user's program without simray's internal frames."""
    import traceback

    te = traceback.TracebackException.from_exception(e)
    _user_frames(te)
    print("".join(te.format()), end="", file=sys.stderr)


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    return 1
