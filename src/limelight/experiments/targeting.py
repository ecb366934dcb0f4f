"""Targeting: a small, safe predicate language over the unit's context and profile.

Experiments are data written by people and sent over an API, so targeting must never run code:
a rule is a JSON object that maps a field path to a condition, parsed once (when the
experiment is saved) into a tree of plain functions. There is no ``eval``, no regular
expression (no catastrophic backtracking) and a limit on nesting and size.

>>> rule = parse({"device": {"in": ["tv"]}, "profile.counts.play_start": {"gte": 5}})
>>> rule({"context": {"device": "tv"}, "profile": {"counts": {"play_start": 7}}})
True
>>> rule({"context": {"device": "mobile"}, "profile": {"counts": {"play_start": 7}}})
False

Paths start at ``context`` or ``profile`` (``profile.counts.play_start``,
``context.locale``); ``device``, ``platform``, ``app``, ``locale`` and ``timezone`` are short
for ``context.<name>``. A condition is a scalar (equality) or an object of operators, all of
which must hold: ``eq``, ``ne``, ``in``, ``nin``, ``gt``, ``gte``, ``lt``, ``lte``,
``exists``, ``contains`` (a list or an object's keys holds the value). ``all``, ``any`` (lists
of rules) and ``not`` (a rule) combine rules. Keys of one object must all hold.

A missing field matches only ``exists: false``, ``ne`` and ``nin`` (as in MongoDB); a
comparison between a number and a string is false rather than an error, so a profile of an
unexpected shape never breaks the request that reads a variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

ROOTS = ("context", "profile")
CONTEXT_SHORTCUTS = ("device", "platform", "app", "locale", "timezone")
COMBINATORS = ("all", "any", "not")
MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_PATH = 200
MISSING: Any = object()


class TargetingError(ValueError):
    """A rule that cannot be parsed; the message names the path at fault."""


def resolve(path: str) -> tuple[str, ...]:
    """A dotted field path as the keys to walk from the unit's attributes."""
    if not path or len(path) > MAX_PATH:
        raise TargetingError(f"field path {path[:40]!r} must have 1 to {MAX_PATH} characters")
    parts = tuple(path.split("."))
    if any(not part for part in parts):
        raise TargetingError(f"field path {path!r} has an empty part")
    if parts[0] in CONTEXT_SHORTCUTS:
        return ("context", *parts)
    if parts[0] not in ROOTS or len(parts) < 2:
        roots = ", ".join((*CONTEXT_SHORTCUTS, "context.<field>", "profile.<field>"))
        raise TargetingError(f"field path {path!r} must start with one of: {roots}")
    return parts


def lookup(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The value at ``keys``, or ``MISSING``; list elements are reached by index."""
    value: Any = attributes
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key, MISSING)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _comparable(left: Any, right: Any) -> bool:
    return (_number(left) and _number(right)) or (isinstance(left, str) and isinstance(right, str))


def _equal(left: Any, right: Any) -> bool:
    if _number(left) and _number(right):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TargetingError(f"{where}: expected a string, number, boolean or null")


def _scalars(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_CONDITIONS:
        raise TargetingError(f"{where}: expected a list of at most {MAX_CONDITIONS} values")
    return [_scalar(item, where) for item in value]


def _operator(name: str, operand: Any, where: str) -> Callable[[Any], bool]:
    """One operator as a test of the field's value (``MISSING`` when absent)."""
    if name == "exists":
        if not isinstance(operand, bool):
            raise TargetingError(f"{where}: 'exists' takes true or false")
        return lambda value: (value is not MISSING) == operand
    if name in ("in", "nin"):
        options = _scalars(operand, f"{where}.{name}")
        if name == "in":
            return lambda value: value is not MISSING and any(_equal(value, o) for o in options)
        return lambda value: value is MISSING or not any(_equal(value, o) for o in options)
    target = _scalar(operand, f"{where}.{name}")
    if name == "eq":
        return lambda value: value is not MISSING and _equal(value, target)
    if name == "ne":
        return lambda value: value is MISSING or not _equal(value, target)
    if name == "contains":
        return lambda value: (
            (isinstance(value, list) and any(_equal(item, target) for item in value))
            or (isinstance(value, Mapping) and isinstance(target, str) and target in value)
        )
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    if name in comparisons:
        if not (_number(target) or isinstance(target, str)):
            raise TargetingError(f"{where}.{name}: compare with a number or a string")
        compare = comparisons[name]
        return lambda value: _comparable(value, target) and compare(value, target)
    known = "eq, ne, in, nin, gt, gte, lt, lte, exists, contains"
    raise TargetingError(f"{where}: unknown operator {name!r} (known: {known})")


def _condition(path: str, condition: Any, budget: list[int]) -> Predicate:
    keys = resolve(path)
    if isinstance(condition, Mapping):
        if not condition:
            raise TargetingError(f"{path}: an empty condition")
        tests = []
        for name, operand in condition.items():
            budget[0] -= 1
            tests.append(_operator(str(name), operand, path))
    else:
        budget[0] -= 1
        tests = [_operator("eq", condition, path)]
    if budget[0] < 0:
        raise TargetingError(f"a rule may hold at most {MAX_CONDITIONS} conditions")
    return lambda attributes: all(test(lookup(attributes, keys)) for test in tests)


def _rule(rule: Any, depth: int, budget: list[int], where: str) -> Predicate:
    if depth > MAX_DEPTH:
        raise TargetingError(f"{where}: rules nest at most {MAX_DEPTH} deep")
    if not isinstance(rule, Mapping):
        raise TargetingError(f"{where}: a rule is an object of field paths to conditions")
    parts: list[Predicate] = []
    for key, value in rule.items():
        name = str(key)
        if name in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise TargetingError(f"{where}.{name}: expected a non-empty list of rules")
            children = [
                _rule(child, depth + 1, budget, f"{where}.{name}[{index}]")
                for index, child in enumerate(value)
            ]
            parts.append(_all_of(children) if name == "all" else _any_of(children))
        elif name == "not":
            parts.append(_negate(_rule(value, depth + 1, budget, f"{where}.not")))
        else:
            parts.append(_condition(name, value, budget))
    return _all_of(parts)


def _all_of(parts: list[Predicate]) -> Predicate:
    return lambda attributes: all(part(attributes) for part in parts)


def _any_of(parts: list[Predicate]) -> Predicate:
    return lambda attributes: any(part(attributes) for part in parts)


def _negate(part: Predicate) -> Predicate:
    return lambda attributes: not part(attributes)


def parse(rule: Mapping[str, Any] | None) -> Predicate:
    """A rule as a predicate over ``{"context": {...}, "profile": {...}}``; ``{}`` admits all."""
    if not rule:
        return lambda _attributes: True
    return _rule(rule, 0, [MAX_CONDITIONS], "targeting")


def needs_profile(rule: Mapping[str, Any] | None) -> bool:
    """Whether any path of the rule reads the profile (so the caller must look it up)."""
    if not rule:
        return False
    for key, value in rule.items():
        if key in ("all", "any") and isinstance(value, list):
            if any(isinstance(child, Mapping) and needs_profile(child) for child in value):
                return True
        elif key == "not" and isinstance(value, Mapping):
            if needs_profile(value):
                return True
        elif str(key).split(".")[0] == "profile":
            return True
    return False
