"""GPU-sharing packing: nodes with per-GPU free shares, and placement policies for what-if studies.

A node has CPU (milli), memory (MiB) and a list of GPUs, each with a free share in milli-GPUs
(0..1000); a pod (task) asks for CPU, memory and either a share of one GPU (`gpu_milli` < 1000,
`num_gpu` = 1) or `num_gpu` whole GPUs, as in Alibaba's openb traces and Ray's fractional GPUs.
Custom resources (Ray's `resources={"TPU": 4}`, `{"special": 1}`) are pooled quantities on a
node, counted in Ray's units of 1/10000.

Policies pick a node (and GPUs on it) for one pod: `random`, `best_fit` (the FGD artifact's
BestFit score), `fgd` (Fragmentation Gradient Descent, Weng et al., USENIX ATC'23: the node
whose expected GPU fragmentation over the target workload's pod-type distribution grows least),
`spread` (least allocated), `ray_default` (pack the first node below half use, as Ray's hybrid
policy). A plug-in is any callable `policy(cluster, pod, rng) -> Choice | None`, registered with
`register_policy(name, fn)`.

Nodes in identical states are grouped, so a policy scores each distinct state once.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MILLI = 1000
UNIT = 10_000  # Ray's RESOURCE_UNIT_SCALING: custom resources in 1/10000ths

Custom = tuple[tuple[str, int], ...]  # (resource name, units), sorted by name


def custom_units(resources: dict[str, float]) -> Custom:
    """Custom resources as sorted (name, units of 1/10000) pairs, zero amounts left out."""
    return tuple(sorted((k, round(v * UNIT)) for k, v in resources.items() if v))


@dataclass(frozen=True)
class Pod:
    """A task's request: CPU milli, memory MiB, GPUs (`num_gpu` of `gpu_milli` each), custom
    resources (see `custom_units`)."""

    cpu: int
    mem: int = 0
    num_gpu: int = 0
    gpu_milli: int = 0  # per GPU; 1000 for whole GPUs, < 1000 for a share of one
    custom: Custom = ()

    @property
    def gpu_total(self) -> int:
        return self.num_gpu * self.gpu_milli


# (cpu free, mem free, sorted GPU free shares, custom resources free)
State = tuple[int, int, tuple[int, ...], Custom]


@dataclass(eq=False)  # a node is itself: removing it from its state group is by identity
class Node:
    name: str
    cpu: int
    mem: int
    gpus: int
    model: str = ""
    cpu_free: int = 0
    mem_free: int = 0
    gpu_free: list[int] = field(default_factory=list)
    custom: Custom = ()  # capacity
    custom_free: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cpu_free = self.cpu
        self.mem_free = self.mem
        self.gpu_free = [MILLI] * self.gpus
        self.custom_free = dict(self.custom)

    def state(self) -> State:
        free = tuple(sorted(self.custom_free.items())) if self.custom_free else ()
        return (self.cpu_free, self.mem_free, tuple(sorted(self.gpu_free)), free)

    def take_custom(self, pod: Pod, sign: int = -1) -> None:
        """Take (or with sign=+1 give back) the pod's custom resources."""
        for k, v in pod.custom:
            self.custom_free[k] += sign * v


@dataclass
class Choice:
    """A node and the GPU shares to take on it: [(gpu index, milli)]."""

    node: Node
    gpus: list[tuple[int, int]]


def fits_state(state: State, pod: Pod) -> bool:
    cpu, mem, gpus, custom = state
    if cpu < pod.cpu or mem < pod.mem:
        return False
    if pod.custom:
        free = dict(custom)
        if any(free.get(k, 0) < v for k, v in pod.custom):
            return False
    if pod.num_gpu == 0:
        return True
    if pod.gpu_milli < MILLI:
        return any(g >= pod.gpu_milli for g in gpus)
    return sum(1 for g in gpus if g == MILLI) >= pod.num_gpu


def take_from_state(state: State, pod: Pod, share_from: int | None = None) -> State:
    """The state after placing `pod` (a share comes from GPU free amount `share_from`, default
    the least free GPU that fits)."""
    cpu, mem, gpus, custom = state
    g = list(gpus)
    if pod.num_gpu:
        if pod.gpu_milli < MILLI:
            amount = share_from
            if amount is None:
                amount = min(x for x in g if x >= pod.gpu_milli)
            g[g.index(amount)] -= pod.gpu_milli
        else:
            for _ in range(pod.num_gpu):
                g[g.index(MILLI)] = 0
    if pod.custom:
        free = dict(custom)
        for k, v in pod.custom:
            free[k] -= v
        custom = tuple(sorted(free.items()))
    return (cpu - pod.cpu, mem - pod.mem, tuple(sorted(g)), custom)


class Cluster:
    """Nodes grouped by state, for policies that score each distinct state once."""

    def __init__(self, nodes: Sequence[Node], compact: bool = False):
        # compact: drop a group once its last node leaves it. Policies scan every group on
        # every pod, and a long run leaves thousands of empty ones; but a state seen again then
        # comes later in the scan, which reorders ties (the plan engine keeps them, so its
        # results stay those of its golden test; a placement-only study compacts)
        self.compact = compact
        self.nodes = list(nodes)
        self.groups: dict[State, list[Node]] = {}
        for n in self.nodes:
            self.groups.setdefault(n.state(), []).append(n)
        self.gpu_capacity = sum(n.gpus for n in self.nodes) * MILLI
        self.gpu_allocated = 0

    def candidates(self, pod: Pod) -> list[tuple[State, list[Node]]]:
        """The groups whose state fits `pod`, in the groups' order. The checks are inlined by
        the pod's kind (GPU free shares are sorted, so a share fits iff the largest does):
        this scan over every group on every pod is the policies' hot loop."""
        items = self.groups.items()
        if pod.custom:
            return [(s, ns) for s, ns in items if ns and fits_state(s, pod)]
        cpu, mem, n, milli = pod.cpu, pod.mem, pod.num_gpu, pod.gpu_milli
        if n == 0:
            return [(s, ns) for s, ns in items if ns and s[0] >= cpu and s[1] >= mem]
        if milli < MILLI:
            return [
                (s, ns)
                for s, ns in items
                if ns and s[0] >= cpu and s[1] >= mem and s[2] and s[2][-1] >= milli
            ]
        return [
            (s, ns)
            for s, ns in items
            if ns and s[0] >= cpu and s[1] >= mem and s[2].count(MILLI) >= n
        ]

    def place(self, choice: Choice, pod: Pod) -> None:
        node = choice.node
        before = node.state()
        group = self.groups[before]
        group.remove(node)
        if self.compact and not group:
            del self.groups[before]
        node.cpu_free -= pod.cpu
        node.mem_free -= pod.mem
        for i, milli in choice.gpus:
            node.gpu_free[i] -= milli
        if pod.custom:
            node.take_custom(pod)
        self.gpu_allocated += pod.gpu_total
        self.groups.setdefault(node.state(), []).append(node)


def gpu_indices(node: Node, pod: Pod, share_from: int | None = None) -> list[tuple[int, int]]:
    """Which GPUs of `node` serve `pod`: whole GPUs lowest index first; a share from the GPU
    with `share_from` free (default: the least free one that fits, lowest index on ties)."""
    if pod.num_gpu == 0:
        return []
    if pod.gpu_milli < MILLI:
        best = -1
        for i, f in enumerate(node.gpu_free):
            if share_from is not None:
                if f == share_from:
                    best = i
                    break
            elif f >= pod.gpu_milli and (best < 0 or f < node.gpu_free[best]):
                best = i
        return [(best, pod.gpu_milli)]
    whole = [i for i, f in enumerate(node.gpu_free) if f == MILLI][: pod.num_gpu]
    return [(i, MILLI) for i in whole]


# -- fragmentation (FGD) ---------------------------------------------------------------------------
TypicalPods = list[tuple[Pod, float]]


def typical_pods(pods: Sequence[Pod], popularity: float = 1.0) -> TypicalPods:
    """The target workload as pod types with their popularity (fractions summing to 1): the
    most common types (CPU, GPU count and share; memory is not part of a type) that together
    cover `popularity` of the pods, renormalised, as the FGD artifact's `GetTypicalPods`. The
    default keeps every type: the artifact's 95 % cut drops openb's multi-GPU types, and then
    FGD scatters single GPUs over free 8-GPU nodes (see sim/README.md)."""
    counts: dict[Pod, int] = {}
    for p in pods:
        key = Pod(p.cpu, 0, p.num_gpu, p.gpu_milli)
        counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    # most common first; ties as the artifact's sort.Reverse: larger CPU, share, GPU count first
    ranked = sorted(
        counts.items(), key=lambda x: (-x[1], -x[0].cpu, -x[0].gpu_milli, -x[0].num_gpu)
    )
    kept: list[tuple[Pod, int]] = []
    covered = 0
    for pod, c in ranked:
        if covered >= popularity * total:
            break
        kept.append((pod, c))
        covered += c
    return [(p, c / covered) for p, c in kept]


def fragmentation(state: State, typical: TypicalPods) -> float:
    """Expected GPU fragmentation (milli-GPUs) of a node state over the workload: for each pod
    type, the free GPU share it could not use (all of it when the type does not fit, or needs
    no GPU; else the free shares of GPUs too small for it), weighted by popularity."""
    cpu, gpus = state[0], state[2]
    left = sum(gpus)
    if left == 0:
        return 0.0
    frag = 0.0
    for pod, p in typical:
        if pod.gpu_milli == 0 or cpu < pod.cpu:
            frag += p * left
            continue
        usable = sum(1 for g in gpus if g >= pod.gpu_milli)
        if usable < pod.num_gpu:
            frag += p * left
        else:
            frag += p * sum(g for g in gpus if g < pod.gpu_milli)
    return frag


class FGD:
    """Fragmentation Gradient Descent: the node (and GPU) whose fragmentation grows least.

    Scores are the artifact's `int(sigmoid(-delta / 1000) * 100)`, so equal scores tie and the
    scheduler picks among the best at random, as the Kubernetes scheduler does. A GPU share goes
    on the lowest-index GPU with the best score (the artifact's `calculateGpuShareFragExtendScore`).
    Scores depend only on the node's state and the pod, so each (state, pod) is scored once.
    """

    def __init__(self, typical: TypicalPods):
        self.typical = typical
        self.cache: dict[State, float] = {}
        # (state, pod number) -> score and share amounts: a node's state changes only when a
        # pod lands on it, so most groups' scores are looked up, not computed again
        self.memo: dict[tuple[State, int], tuple[int, frozenset[int] | None]] = {}
        self.pod_number: dict[Pod, int] = {}

    MEMO = 200_000  # entries per memo before it starts afresh: long runs see ever new states

    def frag(self, state: State) -> float:
        f = self.cache.get(state)
        if f is None:
            if len(self.cache) >= self.MEMO:
                self.cache.clear()
            f = self.cache[state] = fragmentation(state, self.typical)
        return f

    def score(self, state: State, pod: Pod) -> tuple[int, frozenset[int] | None]:
        """The node's score for `pod`, and for a GPU share the free amounts that achieve it."""
        before = self.frag(state)
        if pod.num_gpu == 1 and pod.gpu_milli < MILLI:
            by_amount = {
                amount: _quantized(before - self.frag(take_from_state(state, pod, amount)))
                for amount in set(state[2])
                if amount >= pod.gpu_milli
            }
            best = max(by_amount.values())
            return best, frozenset(a for a, s in by_amount.items() if s == best)
        return _quantized(before - self.frag(take_from_state(state, pod))), None

    def __call__(self, cluster: Cluster, pod: Pod, rng: random.Random) -> Choice | None:
        best_score = -1
        best: list[tuple[Node, frozenset[int] | None]] = []
        number = self.pod_number.setdefault(pod, len(self.pod_number))
        memo = self.memo
        if len(memo) >= self.MEMO:
            memo.clear()
        for state, nodes in cluster.candidates(pod):
            key = (state, number)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = self.score(state, pod)
            score, amounts = hit
            if score > best_score:
                best_score, best = score, [(n, amounts) for n in nodes]
            elif score == best_score:
                best.extend((n, amounts) for n in nodes)
        if not best:
            return None
        node, amounts = best[rng.randrange(len(best))]
        if amounts is None:
            return Choice(node, gpu_indices(node, pod))
        i = next(i for i, f in enumerate(node.gpu_free) if f in amounts)
        return Choice(node, [(i, pod.gpu_milli)])


def _quantized(delta: float) -> int:
    x = delta / 1000.0
    return int(100.0 / (1.0 + math.exp(-x)))


def best_fit(cluster: Cluster, pod: Pod, rng: random.Random) -> Choice | None:
    """The FGD artifact's BestFit: least CPU and GPU left after placing (its score, quantized)."""
    best_score, best = -1, []
    for state, nodes in cluster.candidates(pod):
        cpu_left = state[0] - pod.cpu
        gpu_left = sum(state[2]) - pod.gpu_total
        score = int(100 * (1 - (0.5 * cpu_left / 128000 + 0.5 * gpu_left / 8000)))
        if score > best_score:
            best_score, best = score, list(nodes)
        elif score == best_score:
            best.extend(nodes)
    if not best:
        return None
    node = best[rng.randrange(len(best))]
    return Choice(node, gpu_indices(node, pod))


def random_policy(cluster: Cluster, pod: Pod, rng: random.Random) -> Choice | None:
    """Any node that fits, uniformly; a GPU share goes on any GPU of it that fits."""
    nodes = [n for _, ns in cluster.candidates(pod) for n in ns]
    if not nodes:
        return None
    node = nodes[rng.randrange(len(nodes))]
    if pod.num_gpu == 1 and pod.gpu_milli < MILLI:
        ok = [i for i, g in enumerate(node.gpu_free) if g >= pod.gpu_milli]
        return Choice(node, [(ok[rng.randrange(len(ok))], pod.gpu_milli)])
    return Choice(node, gpu_indices(node, pod))


def spread(cluster: Cluster, pod: Pod, rng: random.Random) -> Choice | None:
    """The least allocated node that fits (by its largest used fraction of CPU and GPU)."""
    best, best_use = None, 2.0
    for n in sorted(cluster.nodes, key=lambda n: n.name):
        if not fits_state(n.state(), pod):
            continue
        use = max(
            1 - n.cpu_free / n.cpu if n.cpu else 0,
            1 - sum(n.gpu_free) / (n.gpus * MILLI) if n.gpus else 0,
        )
        if use < best_use:
            best, best_use = n, use
    return None if best is None else Choice(best, gpu_indices(best, pod))


def ray_default(cluster: Cluster, pod: Pod, rng: random.Random) -> Choice | None:
    """Ray's hybrid policy, on node states: pack onto nodes below half CPU use (the fullest of
    them, as Ray fills the first such node before moving on), else the least used node; work
    without GPUs avoids GPU nodes when a CPU node fits."""
    best: tuple[float, int, State] | None = None  # (rank, gpu node, state)
    for state, nodes in cluster.candidates(pod):
        node = nodes[0]
        use = 1 - state[0] / node.cpu if node.cpu else 1.0
        rank = -use if use < 0.5 else use  # below half: fullest first; else least used
        key = (1 if (pod.num_gpu == 0 and node.gpus) else 0, 0 if use < 0.5 else 1, rank)
        if best is None or key < best[0]:
            best = (key, 0, state)  # type: ignore[assignment]
    if best is None:
        return None
    node = cluster.groups[best[2]][0]
    return Choice(node, gpu_indices(node, pod))


Policy = Callable[[Cluster, Pod, random.Random], Choice | None]
POLICIES: dict[str, Callable[[Sequence[Pod]], Policy]] = {
    "random": lambda workload: random_policy,
    "best_fit": lambda workload: best_fit,
    "fgd": lambda workload: FGD(typical_pods(workload)),
    "spread": lambda workload: spread,
    "ray_default": lambda workload: ray_default,
}


def register_policy(name: str, factory: Callable[[Sequence[Pod]], Policy]) -> None:
    """Add a placement policy: `factory(workload_pods)` returns `policy(cluster, pod, rng)`,
    which answers a `Choice` (node and GPU shares) or None when nothing fits."""
    POLICIES[name] = factory


def make_policy(name: str, workload: Sequence[Pod]) -> Policy:
    if name not in POLICIES:
        raise ValueError(
            f"unknown placement policy {name!r}; choose one of {sorted(POLICIES)} or add one "
            "with simray._plan.packing.register_policy(name, factory)"
        )
    return POLICIES[name](workload)
