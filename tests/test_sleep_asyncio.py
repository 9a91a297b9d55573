"""A sim task blocked (`time.sleep`, `get`) while its asyncio loop runs: the loop is its alone.

The kernel sets a unit's running loop aside while it is switched out; it looks for one only
once asyncio's loop module has been imported (the session watches for the import,
`vtime._AsyncioWatch`), and the sleep fast path, which does not set it aside, is taken only
while there is none. Each case runs in a fresh process, to import asyncio during the session.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import sys, time
{preamble}
import simray

simray.init(num_cpus=2, _latency=0)


@simray.remote
def later():
    time.sleep(1.0)
    return 1


@simray.remote
def in_loop():
    import asyncio

    async def main():
        {block}  # blocks inside the loop: the loop stays running meanwhile
        return asyncio.get_running_loop() is not None

    return asyncio.run(main())


@simray.remote
def beside():
    time.sleep(0.5)  # wakes while in_loop sleeps inside its loop
    import asyncio

    try:
        asyncio.get_running_loop()
        return "a loop runs here"
    except RuntimeError:
        return "no loop here"


first = beside.remote()
print(simray.get([first, in_loop.remote()]), "asyncio" in sys.modules)
simray.shutdown()
"""


@pytest.mark.parametrize("block", ["time.sleep(1.0)", "simray.get(later.remote())"])
@pytest.mark.parametrize(
    ("preamble", "imported"),
    [("", False), ("import asyncio", True)],
    ids=["asyncio-imported-in-a-task", "asyncio-imported-before-init"],
)
def test_a_blocked_units_running_loop_is_not_seen_by_the_next_unit(preamble, imported, block):
    code = PROGRAM.format(preamble=preamble, block=block)
    check = "" if imported else 'assert "asyncio" not in sys.modules, "asyncio came in at start"\n'
    out = subprocess.run(
        [sys.executable, "-c", code.replace("import simray\n", "import simray\n" + check, 1)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['no loop here', True] True"
