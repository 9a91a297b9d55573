"""Bundled scenarios: small Ray programs, each with the property it must keep on every backend.

Each `run_*` function starts a session on the backend named by `SIMRAY_BACKEND` (the pytest
plugin sets it; default sim) with the cluster it is given, runs its program, shuts down, and
returns what it observed; each `check_*` function raises `AssertionError` with an explanation
when an observation breaks the property. simray's own suite runs them as hypothesis property
tests over seeds, task counts and cluster shapes (`tests/test_scenarios_properties.py`); call
them from your own tests the same way.

Example:
    obs = run_filelock_appends(str(tmp_path / "log.txt"), tasks=4, lines=3, use_lock=True)
    check_filelock_appends(obs, tasks=4, lines=3)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import simray

Node = dict[str, Any]
ONE_NODE: list[Node] = [{"num_cpus": 2}]


def _backend() -> str:
    return os.environ.get("SIMRAY_BACKEND") or "sim"


@contextlib.contextmanager
def session(nodes: Sequence[Node] = ONE_NODE, seed: int | None = None) -> Iterator[None]:
    """A session on a cluster of `nodes` (`Cluster.add_node` arguments, the head first)."""
    if not nodes:
        raise ValueError("a scenario cluster needs at least one node (the head), got []")
    backend = _backend()
    if backend == "ray":
        import ray.cluster_utils

        cluster: Any = ray.cluster_utils.Cluster()
        for spec in nodes:
            spec = dict(spec)
            accelerator = spec.pop("accelerator_type", None)
            if accelerator is not None:
                spec["resources"] = {
                    **(spec.get("resources") or {}),
                    f"accelerator_type:{accelerator}": 1,
                }
            cluster.add_node(**spec)
        simray.init(address=cluster.address, backend="ray")
    else:
        from simray.cluster import Cluster

        cluster = Cluster()
        for spec in nodes:
            cluster.add_node(**spec)
        simray.init(address=cluster.address, seed=seed, backend=backend)
    try:
        yield
    finally:
        simray.shutdown()
        cluster.shutdown()


# -- SignalActor -------------------------------------------------------------------------------
def run_signal_actor(
    waiters: int,
    nodes: Sequence[Node] = ONE_NODE,
    seed: int | None = None,
    captured: bool = False,
):
    """`waiters` tasks block on one SignalActor; then `send(clear=True)`, then one more waiter.

    The waiters get the signal's handle as an argument, or with `captured=True` through their
    closure (as Ray's own tests write it; Ray pickles the handle with the function).
    """
    from simray.util.test_utils import SignalActor, wait_for_condition

    with session(nodes, seed):
        signal = SignalActor.remote()

        if captured:

            @simray.remote(num_cpus=0)
            def waiter(i: int) -> int:
                simray.get(signal.wait.remote())
                return i

            def start(i: int) -> Any:
                return waiter.remote(i)
        else:

            @simray.remote(num_cpus=0)
            def waiter_of(i: int, handle: Any) -> int:
                simray.get(handle.wait.remote())
                return i

            def start(i: int) -> Any:
                return waiter_of.remote(i, signal)

        refs = [start(i) for i in range(waiters)]
        wait_for_condition(lambda: simray.get(signal.cur_num_waiters.remote()) == waiters)
        early, _ = simray.wait(refs, num_returns=waiters, timeout=1)
        simray.get(signal.send.remote(clear=True))
        released = simray.get(refs, timeout=30)
        late = start(waiters)
        rearmed_ready, _ = simray.wait([late], timeout=1)
        simray.get(signal.send.remote())
        last = simray.get(late, timeout=30)
    return {
        "before_send": len(early),
        "released": released,
        "after_clear": len(rearmed_ready),
        "last": last,
    }


def check_signal_actor(obs: dict[str, Any], waiters: int) -> None:
    assert obs["before_send"] == 0, f"{obs['before_send']} waiter(s) passed before send()"
    assert obs["released"] == list(range(waiters)), f"not every waiter was released: {obs}"
    assert obs["after_clear"] == 0, "send(clear=True) did not re-arm the signal"
    assert obs["last"] == waiters, f"the waiter after the second send() returned {obs['last']}"


# -- FileLock ----------------------------------------------------------------------------------
def run_filelock_appends(
    path: str,
    tasks: int,
    lines: int,
    use_lock: bool = True,
    nodes: Sequence[Node] = ONE_NODE,
    seed: int | None = None,
) -> list[str]:
    """Each task appends `lines` lines, each written in three pieces with a pause between them."""
    lock_path = path + ".lock"

    with session(nodes, seed):

        @simray.remote(num_cpus=0.5)
        def append(task: int) -> None:
            from filelock import FileLock

            for line in range(lines):
                guard = FileLock(lock_path) if use_lock else contextlib.nullcontext()
                with guard:
                    for piece in (f"task={task} ", f"line={line} ", "end\n"):
                        with open(path, "a", encoding="utf-8") as f:
                            f.write(piece)
                        time.sleep(0.01)  # a blocking point inside the critical section

        simray.get([append.remote(t) for t in range(tasks)])
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def check_filelock_appends(written: list[str], tasks: int, lines: int) -> None:
    expected = sorted(f"task={t} line={n} end" for t in range(tasks) for n in range(lines))
    broken = [w for w in written if w not in expected]
    assert not broken, f"interleaved lines (written without mutual exclusion): {broken[:3]}"
    assert sorted(written) == expected, "some line is missing or written twice"


def run_filelock_counter(
    path: str,
    tasks: int,
    use_lock: bool,
    nodes: Sequence[Node] = ONE_NODE,
    seed: int | None = None,
    pause: float = 0.01,
) -> int:
    """`tasks` tasks each increment a counter file (read, pause, write): the final count."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("0")
    lock_path = path + ".lock"

    with session(nodes, seed):

        @simray.remote(num_cpus=0.5)
        def increment() -> None:
            from filelock import FileLock

            guard = FileLock(lock_path) if use_lock else contextlib.nullcontext()
            with guard:
                with open(path, encoding="utf-8") as f:
                    value = int(f.read())
                time.sleep(pause)  # between the read and the write: the race window
                # Replace the file whole, so a reader in another process never sees it empty.
                fd, scratch = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(str(value + 1))
                os.replace(scratch, path)

        simray.get([increment.remote() for _ in range(tasks)])
    with open(path, encoding="utf-8") as f:
        return int(f.read())


def check_filelock_counter(count: int, tasks: int) -> None:
    assert count == tasks, f"lost updates: {tasks} increments left the counter at {count}"


# -- circular dependencies ----------------------------------------------------------------------
def run_nested_get(depth: int, seed: int | None = None) -> int:
    """A chain of `depth` tasks, each `get`-ting the next, on one CPU: blocked tasks give their
    CPU back, so it completes."""
    with session([{"num_cpus": 1}], seed):

        @simray.remote
        def nest(d: int) -> int:
            return 0 if d == 0 else 1 + simray.get(nest.remote(d - 1))

        return simray.get(nest.remote(depth), timeout=60)


def run_gpu_cycle(timeout: float | None, seed: int | None = None) -> str:
    """A GPU task `get`s another GPU task on a one-GPU cluster: the inner one can never start.

    Returns "timeout" (GetTimeoutError, with a timeout) or the DeadlockError text (sim, none).
    """
    from simray.exceptions import DeadlockError, GetTimeoutError

    with session([{"num_cpus": 2, "num_gpus": 1}], seed):

        @simray.remote(num_gpus=1)
        def inner() -> str:
            return "inner"

        @simray.remote(num_gpus=1)
        def outer() -> str:
            return simray.get(inner.remote())

        try:
            return simray.get(outer.remote(), timeout=timeout)
        except GetTimeoutError:
            return "timeout"
        except DeadlockError as e:
            return str(e)


def run_actor_cycle(max_concurrency: int, timeout: float = 10, seed: int | None = None) -> str:
    """Actor A asks B, which calls back into A while A's first call still runs."""
    from simray.exceptions import GetTimeoutError

    with session([{"num_cpus": 2}], seed):

        @simray.remote(num_cpus=0)
        class Peer:
            def __init__(self) -> None:
                self.other: Any = None

            def meet(self, other: Any) -> None:
                self.other = other

            def ask(self) -> str:
                return simray.get(self.other.answer.remote())

            def answer(self) -> str:
                return simray.get(self.other.ping.remote())

            def ping(self) -> str:
                return "pong"

        a = Peer.options(max_concurrency=max_concurrency).remote()
        b = Peer.options(max_concurrency=max_concurrency).remote()
        simray.get([a.meet.remote(b), b.meet.remote(a)])
        try:
            return simray.get(a.ask.remote(), timeout=timeout)
        except GetTimeoutError:
            return "deadlock"


# -- definition order --------------------------------------------------------------------------
def run_definition_order(n: int, seed: int | None = None) -> list[int]:
    """`first` calls `second`, which is defined after it: Ray resolves the name at call time."""
    with session(ONE_NODE, seed):

        @simray.remote
        def first(x: int) -> int:
            return simray.get(second.remote(x)) + 1

        @simray.remote
        def second(x: int) -> int:
            return 2 * x

        return simray.get([first.remote(i) for i in range(n)])


# -- compiled functions ------------------------------------------------------------------------
def run_compiled(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Wrap a compiled (Cython) function with `remote` and run it once per argument tuple."""
    with session(ONE_NODE):
        remote_fn = simray.remote(fn)
        return simray.get([remote_fn.remote(*a) for a in args])


# -- task graphs -------------------------------------------------------------------------------
def run_task_graph(
    graph: Sequence[dict[str, Any]], nodes: Sequence[Node] = ONE_NODE, seed: int | None = None
) -> list[tuple[float, float]]:
    """Run a task graph (see `strategies.task_graphs`): each task gets its dependencies' results
    as arguments and sleeps its duration; returns each task's (start, end) session time."""
    with session(nodes, seed):
        t0 = time.time()

        @simray.remote(num_cpus=1)
        def step(duration: float, *deps: tuple[float, float]) -> tuple[float, float]:
            start = time.time() - t0
            time.sleep(duration)
            return (start, time.time() - t0)

        refs: list[Any] = []
        for node in graph:
            refs.append(step.remote(node["duration"], *[refs[d] for d in node["deps"]]))
        return simray.get(refs, timeout=3600)


def check_task_graph(spans: list[tuple[float, float]], graph: Sequence[dict[str, Any]]) -> None:
    for i, node in enumerate(graph):
        start, end = spans[i]
        assert end - start >= node["duration"] - 1e-6, f"task {i} ended before its duration"
        for d in node["deps"]:
            assert start >= spans[d][1] - 1e-6, f"task {i} started before its dependency {d}"


# -- accelerator types -------------------------------------------------------------------------
def run_accelerator_types(
    nodes: Sequence[Node], wanted: Sequence[str], seed: int | None = None
) -> list[str | None]:
    """One task per entry of `wanted` asks for that accelerator type; for each, the type of the
    node it ran on, or None when it did not run (no such node: it stays infeasible)."""
    types = {}
    with session(nodes, seed):
        for info, spec in zip(simray.nodes(), nodes, strict=True):
            types[info["NodeID"]] = spec.get("accelerator_type")

        @simray.remote(num_cpus=0)
        def where() -> str:
            return simray.get_runtime_context().get_node_id()

        refs = [where.options(accelerator_type=x).remote() for x in wanted]
        ready, _ = simray.wait(refs, num_returns=len(refs), timeout=5)
        done = set(ready)
        return [types[simray.get(r)] if r in done else None for r in refs]


def check_accelerator_types(
    placed: list[str | None], nodes: Sequence[Node], wanted: Sequence[str]
) -> None:
    present = {n.get("accelerator_type") for n in nodes}
    for want, got in zip(wanted, placed, strict=True):
        if want in present:
            assert got == want, f"a task for {want} ran on a node of type {got}"
        else:
            assert got is None, f"a task for {want} ran (on {got}) though no node has it"


__all__ = [
    "check_accelerator_types",
    "check_filelock_appends",
    "check_filelock_counter",
    "check_signal_actor",
    "run_accelerator_types",
    "run_actor_cycle",
    "run_compiled",
    "run_definition_order",
    "run_filelock_appends",
    "run_filelock_counter",
    "run_gpu_cycle",
    "run_nested_get",
    "run_signal_actor",
    "run_task_graph",
    "check_task_graph",
    "session",
]
