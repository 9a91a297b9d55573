"""`simray replay`: run a scenario script on sim with its seed, record or check its trace.

A scenario script is a Ray program that may state its seed in a header line
`# simray-replay: seed=N` (default 0; `--seed` overrides). `--trace FILE` keeps the trace;
`--check RECORDED` compares the new trace with a recorded one byte for byte: exit 0 when they are
identical, else print the first diverging event with its virtual time and exit 1.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

_HEADER = re.compile(r"^#\s*simray-replay:\s*(.*)$")


def stated_seed(script: str) -> int:
    """The seed a script states in its `# simray-replay: seed=N` header line (0 without one)."""
    with open(script, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            match = _HEADER.match(line.strip())
            if match is None:
                continue
            fields = dict(
                part.split("=", 1)
                for part in match.group(1).replace(",", " ").split()
                if "=" in part
            )
            text = fields.get("seed")
            if text is None or not text.isdigit():
                raise ValueError(
                    f"{script}:{number}: the replay header must read '# simray-replay: seed=N' "
                    f"with N an integer >= 0, got {line.strip()!r}"
                )
            return int(text)
    return 0


def first_divergence(recorded: list[str], replayed: list[str]) -> str | None:
    """Describe the first event where two traces differ, or None when they are identical."""
    for index, (old, new) in enumerate(zip(recorded, replayed, strict=False)):
        if old != new:
            return (
                f"first diverging event is #{index + 1} at virtual time {_time_of(old, new)}s:\n"
                f"  recorded: {old}\n"
                f"  replayed: {new}"
            )
    if len(recorded) == len(replayed):
        return None
    if len(replayed) < len(recorded):
        extra = recorded[len(replayed)]
        return (
            f"the replay stops after {len(replayed)} events; the recording goes on with event "
            f"#{len(replayed) + 1} at virtual time {_time_of(extra, extra)}s:\n  recorded: {extra}"
        )
    extra = replayed[len(recorded)]
    return (
        f"the recording stops after {len(recorded)} events; the replay goes on with event "
        f"#{len(recorded) + 1} at virtual time {_time_of(extra, extra)}s:\n  replayed: {extra}"
    )


def _time_of(old: str, new: str) -> str:
    for line in (new, old):
        try:
            return str(json.loads(line)["t"])
        except (ValueError, KeyError, TypeError):
            continue
    return "?"


def replay_main(script: str, seed: int | None, trace: str | None, check: str | None) -> int:
    """Run `simray replay`; return the exit code (the script's, or 1 on a trace mismatch)."""
    from simray._cli import exec_script

    if not os.path.isfile(script):
        print(f"simray replay: no such script: {script}", file=sys.stderr)
        return 2
    if check is not None and not os.path.isfile(check):
        print(f"simray replay: no such recorded trace: {check}", file=sys.stderr)
        return 2
    try:
        chosen_seed = stated_seed(script) if seed is None else seed
    except ValueError as e:
        print(f"simray replay: {e}", file=sys.stderr)
        return 2
    if os.environ.get("SIMRAY_BACKEND", "sim") != "sim":
        print(
            "simray replay: replay runs on the sim backend; unset SIMRAY_BACKEND "
            f"(it is {os.environ['SIMRAY_BACKEND']!r})",
            file=sys.stderr,
        )
        return 2
    scratch = None
    if trace is None:
        fd, scratch = tempfile.mkstemp(prefix="simray-replay-", suffix=".jsonl")
        os.close(fd)
        trace = scratch
    if check is not None:
        # Replay under the latency model the recording was made with (its first record).
        from simray._sim.latency import from_trace

        with open(check, encoding="utf-8") as f:
            os.environ["SIMRAY_SIM_LATENCY"] = from_trace(f.readline())
    try:
        code = exec_script(script, [], "sim", chosen_seed, trace)
        if check is None:
            return code
        with open(trace, encoding="utf-8") as f:
            replayed = f.read()
        with open(check, encoding="utf-8") as f:
            recorded = f.read()
        if replayed == recorded:
            print(f"simray replay: trace identical to {check}", file=sys.stderr)
            return code
        difference = first_divergence(recorded.splitlines(), replayed.splitlines())
        if difference is None:  # same events, other bytes (line endings, a missing newline)
            difference = "same events, but the bytes differ (line endings or a final newline)"
        print(
            f"simray replay: trace differs from {check} (seed {chosen_seed}): {difference}",
            file=sys.stderr,
        )
        return 1
    finally:
        if scratch is not None and os.path.exists(scratch):
            os.unlink(scratch)
