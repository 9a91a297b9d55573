"""Node labels and `label_selector`: Ray 2.60's syntax checks (with its messages) and matching.

Pure functions: the scheduler filters nodes with `matches` before its placement policy runs,
so a selector no node satisfies leaves the work pending (infeasible), as in Ray.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NODE_ID_KEY = "ray.io/node-id"  # the one label Ray 2.60 sets on every node by default

# Kubernetes label syntax, as Ray's `ray/_private/label_utils.py` spells it. Patterns, compiled
# (and cached by `re`) when a label is first checked: `import simray` compiles none (~0.4 ms).
_LABEL = r"([a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?)"
_LABEL_REGEX = _LABEL
_PREFIX_REGEX = rf"^({_LABEL}?(\.{_LABEL}?)*)$"
_SELECTOR_REGEX = rf"^!?(?:in)?\({_LABEL}(?:, ?{_LABEL})*\)$|^!?{_LABEL}$"
_SYNTAX = (
    "Value must be 63 chars or less beginning and ending "
    "with an alphanumeric character ([a-z0-9A-Z]) with dashes (-), underscores (_),"
    "dots (.), and alphanumerics between."
)


def check_key(key: str) -> str | None:
    """Ray's message for a bad label key, or None."""
    if "/" in key:
        prefix, name = key.rsplit("/", 1)
        if len(prefix) > 253 or not re.fullmatch(_PREFIX_REGEX, prefix):
            return (
                f"Invalid label key prefix `{prefix}`. Prefix must be a series of DNS labels "
                "separated by dots (.), not longer than 253 characters in total."
            )
    else:
        name = key
    if len(name) > 63 or not re.fullmatch(_LABEL_REGEX, name):
        return (
            f"Invalid label key name `{name}`. Name must be 63 chars or less beginning and "
            "ending with an alphanumeric character ([a-z0-9A-Z]) with dashes (-), underscores "
            "(_),dots (.), and alphanumerics between."
        )
    return None


def check_selector(selector: Mapping[str, Any] | None) -> str | None:
    """Ray's message for a bad `label_selector`, or None (a non-string raises TypeError, as
    in Ray, whose regex match does)."""
    if selector is None:
        return None
    for key, value in selector.items():
        message = check_key(key)
        if message:
            return message
        if value is not None and value != "" and not re.fullmatch(_SELECTOR_REGEX, value):
            return (
                f"Invalid label selector value `{value}`. The label selector value should "
                "contain optional operators and a label value. Supported operators are: ! and "
                f"{{'in'}}. {_SYNTAX}"
            )
    return None


def check_fallback_strategy(strategies: list[Any] | None) -> str | None:
    """Ray's message for a bad `fallback_strategy`, or None."""
    for strategy in strategies or ():
        if not isinstance(strategy, dict):
            return "Each element in fallback_strategy must be a dictionary."
        if not strategy:
            return "Empty dictionary found in `fallback_strategy`."
        for option in strategy:
            if option != "label_selector":
                return (
                    f"Unsupported option found: '{option}'. "
                    "Only ['label_selector'] is currently supported."
                )
        selector = strategy.get("label_selector")
        if selector:
            if not isinstance(selector, dict):
                return 'The value of "label_selector" must be a dictionary.'
            message = check_selector(selector)
            if message:
                return message
    return None


def check_node_labels(labels: Any) -> None:
    """Ray 2.60's checks on `init(labels=...)` and `Cluster.add_node(labels=...)`, found by
    experiment: no key or value syntax is checked there (`ray.io/` keys, spaces and empty values
    are all accepted; only `ray start --labels` checks them). A non-mapping fails as Ray's does.
    A value that is not a string makes Ray's raylet exit at start-up ("Failed to parse node
    labels json string ..."), after which `ray.init` waits and raises "The current node timed
    out during startup"; simray raises at once, with the raylet's reason and the fix."""
    if labels is None:
        return
    if not hasattr(labels, "items"):
        raise AttributeError(f"'{type(labels).__name__}' object has no attribute 'items'")
    for key, value in labels.items():
        if not isinstance(value, str):
            raise ValueError(
                "Failed to parse node labels json string for The value of the "
                f"'{key}' field in the node labels configuration is not string type. "
                f"(Ray's raylet exits on this at start-up; give every label value as a string, "
                f"e.g. {{{key!r}: {str(value)!r}}}.)"
            )


# A parsed condition: (key, negated, allowed values).
Condition = tuple[str, bool, frozenset[str]]


def parse(selector: Mapping[str, str]) -> tuple[Condition, ...]:
    """A validated selector as conditions: `v`, `!v`, `in(a,b)`, `!in(a,b)` (as Ray 2.60's
    raylet reads them, checked on real Ray)."""
    conditions = []
    for key, value in selector.items():
        text = value or ""
        negated = text.startswith("!")
        if negated:
            text = text[1:]
        if text.startswith("in(") and text.endswith(")"):
            # Ray keeps the space after a comma: `in(b, c)` holds "b" and " c" (never matched).
            values = frozenset(text[3:-1].split(","))
        else:  # a plain value, including `(b,c)` without `in`, which Ray takes literally
            values = frozenset((text,))
        conditions.append((key, negated, values))
    return tuple(sorted(conditions, key=lambda c: (c[0], c[1], sorted(c[2]))))


def matches(conditions: tuple[Condition, ...], labels: Mapping[str, str]) -> bool:
    """Whether a node with `labels` satisfies every condition. A negated condition also holds
    when the node lacks the key (Ray: `!a` and `!in(a,b)` select unlabelled nodes too)."""
    for key, negated, values in conditions:
        value = labels.get(key)
        inside = value is not None and value in values
        if inside == negated:
            return False
    return True
