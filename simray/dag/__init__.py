"""`ray.dag`: build a graph of calls with `.bind(...)` and run it with `.execute(...)`.

`f.bind(x)` on a remote function, `Cls.bind(...)` on an actor class and `actor.m.bind(...)` on
an actor method (of a handle or of a bound class) make nodes; `InputNode()` stands for the
arguments of `execute`, `MultiOutputNode([...])` returns several refs. `execute` submits every
node once, upstream first, passing refs along (so tasks wait for their inputs as usual); a bound
actor class is created once per `execute`.
"""

from __future__ import annotations

from typing import Any


class DAGNode:
    """A node of the graph: `execute(*args, **kwargs)` runs the graph up to it."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._run({}, args, kwargs)

    def _run(self, cache: dict[int, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = id(self)
        if key not in cache:
            cache[key] = self._compute(cache, args, kwargs)
        return cache[key]

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _resolve(value: Any, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        if isinstance(value, DAGNode):
            return value._run(cache, args, kwargs)
        if isinstance(value, list):
            return [DAGNode._resolve(v, cache, args, kwargs) for v in value]
        if isinstance(value, tuple):
            return tuple(DAGNode._resolve(v, cache, args, kwargs) for v in value)
        if isinstance(value, dict):
            return {k: DAGNode._resolve(v, cache, args, kwargs) for k, v in value.items()}
        return value

    def _bound(self, cache: dict[int, Any], args: Any, kwargs: Any) -> tuple[Any, Any]:
        call_args = self._resolve(self._args, cache, args, kwargs)
        call_kwargs = self._resolve(self._kwargs, cache, args, kwargs)
        return call_args, call_kwargs


class FunctionNode(DAGNode):
    """A remote function call: `f.bind(...)`."""

    def __init__(self, remote: Any, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._remote = remote
        self._args = args
        self._kwargs = kwargs

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        call_args, call_kwargs = self._bound(cache, args, kwargs)
        return self._remote.remote(*call_args, **call_kwargs)


class ClassNode(DAGNode):
    """An actor to create: `Cls.bind(...)`; `.method.bind(...)` on it makes method nodes."""

    def __init__(self, actor_class: Any, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._actor_class = actor_class
        self._args = args
        self._kwargs = kwargs

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        call_args, call_kwargs = self._bound(cache, args, kwargs)
        return self._actor_class.remote(*call_args, **call_kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _UnboundMethod(self, name)


class _UnboundMethod:
    def __init__(self, actor: Any, name: str):
        self._actor = actor
        self._name = name

    def bind(self, *args: Any, **kwargs: Any) -> ClassMethodNode:
        return ClassMethodNode(self._actor, self._name, args, kwargs)


class ClassMethodNode(DAGNode):
    """An actor method call: `actor.method.bind(...)` (the actor a handle or a ClassNode)."""

    def __init__(self, actor: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._actor = actor
        self._method = method
        self._args = args
        self._kwargs = kwargs

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        handle = self._resolve(self._actor, cache, args, kwargs)
        call_args, call_kwargs = self._bound(cache, args, kwargs)
        return getattr(handle, self._method).remote(*call_args, **call_kwargs)


class InputNode(DAGNode):
    """The arguments of `execute`: the node itself is the first argument (or the only one);
    `inp[i]` and `inp.name` pick positional and keyword arguments."""

    def __enter__(self) -> InputNode:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs:
            return args[0]
        if not args and not kwargs:
            raise ValueError("InputNode needs the arguments given to execute()")
        return args[0] if args else kwargs

    def __getitem__(self, key: Any) -> InputAttributeNode:
        return InputAttributeNode(key)

    def __getattr__(self, name: str) -> InputAttributeNode:
        if name.startswith("_"):
            raise AttributeError(name)
        return InputAttributeNode(name)


class InputAttributeNode(DAGNode):
    """One argument of `execute`: by position (int) or keyword (str)."""

    def __init__(self, key: Any):
        self._key = key

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        if isinstance(self._key, int):
            return args[self._key]
        if self._key in kwargs:
            return kwargs[self._key]
        if len(args) == 1 and isinstance(args[0], dict):
            return args[0][self._key]
        return getattr(args[0], self._key)


class MultiOutputNode(DAGNode):
    """Several outputs: `execute` returns the list of their refs."""

    def __init__(self, outputs: list[DAGNode]):
        self._outputs = list(outputs)

    def _compute(self, cache: dict[int, Any], args: Any, kwargs: Any) -> Any:
        return [self._resolve(o, cache, args, kwargs) for o in self._outputs]


__all__ = [
    "ClassMethodNode",
    "ClassNode",
    "DAGNode",
    "FunctionNode",
    "InputAttributeNode",
    "InputNode",
    "MultiOutputNode",
]
