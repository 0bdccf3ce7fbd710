"""A tiny, safe condition language over signals, used by rubric caps, rules and applies_when.

Grammar (no eval, no attribute access, no function calls)::

    condition := clause (("and" | "or") clause)*      # "and" binds tighter than "or"
    clause    := "not"? NAME | NAME OP NUMBER
    OP        := >= | <= | > | < | == | !=

Examples: ``questions_in_turn >= 3``, ``not reflects``, ``is_opening or question_turn_index <= 1``.
A bare name is true when the signal is truthy (non-zero number, True, non-empty list).
``true`` and ``false`` are allowed as whole conditions ("always" / "never").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.interview.errors import ContentError

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_NAME = r"[a-z_][a-z0-9_]*"
_NUMBER = r"-?\d+(?:\.\d+)?"
_CLAUSE = re.compile(
    rf"^\s*(?:(?P<not>not)\s+(?P<bare_not>{_NAME})"
    rf"|(?P<name>{_NAME})\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<number>{_NUMBER})"
    rf"|(?P<bare>{_NAME}))\s*$"
)
_JOINERS = re.compile(r"\s+(and|or)\s+")
_CONSTANTS = {"true": True, "false": False}


@dataclass(frozen=True)
class Clause:
    """One comparison or truth test on a single signal."""

    name: str
    op: str | None = None  # None: truth test
    number: float = 0.0
    negate: bool = False

    def holds(self, signals: Mapping[str, Any]) -> bool:
        if self.name in _CONSTANTS and self.name not in signals:
            return _CONSTANTS[self.name] != self.negate
        try:
            value = signals[self.name]
        except KeyError:
            raise KeyError(f"signal '{self.name}' is missing from the computed signals") from None
        if self.op is None:
            return bool(value) != self.negate
        if not isinstance(value, int | float):  # bool is an int: True compares as 1
            raise TypeError(f"signal '{self.name}' is {type(value).__name__}, not a number")
        return _OPS[self.op](float(value), self.number)


@dataclass(frozen=True)
class Condition:
    """A parsed condition: a disjunction of conjunctions of clauses."""

    source: str
    any_of: tuple[tuple[Clause, ...], ...]

    @property
    def names(self) -> set[str]:
        return {c.name for group in self.any_of for c in group if c.name not in _CONSTANTS}

    def holds(self, signals: Mapping[str, Any]) -> bool:
        return any(all(c.holds(signals) for c in group) for group in self.any_of)


@lru_cache(maxsize=1024)
def parse(source: str) -> Condition:
    """Parse a condition, raising ContentError with the offending part. Results are cached."""
    text = source.strip().lower()
    if not text:
        raise ContentError("empty condition (write e.g. 'questions_in_turn >= 3')")
    tokens = _JOINERS.split(text)
    groups: list[list[Clause]] = [[]]
    for position, token in enumerate(tokens):
        if position % 2 == 1:
            if token == "or":
                groups.append([])
            continue
        match = _CLAUSE.match(token)
        if match is None:
            raise ContentError(
                f"cannot read condition part '{token.strip()}' in '{source}' "
                "(expected 'name', 'not name' or 'name OP number' with OP one of "
                ">=, <=, >, <, ==, !=, joined by 'and'/'or')"
            )
        if match["name"]:
            clause = Clause(match["name"], match["op"], float(match["number"]))
        else:
            clause = Clause(match["bare_not"] or match["bare"], negate=bool(match["not"]))
        groups[-1].append(clause)
    return Condition(source, tuple(tuple(g) for g in groups))


def validate(source: str, known: Collection[str], *, where: str = "condition") -> Condition:
    """Parse ``source`` and check every signal name is known; errors name ``where``."""
    try:
        condition = parse(source)
    except ContentError as exc:
        raise ContentError(f"{where}: {exc.message}") from None
    unknown = sorted(condition.names - set(known))
    if unknown:
        raise ContentError(
            f"{where}: unknown signal {', '.join(repr(u) for u in unknown)} in '{source}'. "
            f"Known signals: {', '.join(sorted(known))}"
        )
    return condition


def holds(source: str, signals: Mapping[str, Any]) -> bool:
    """Evaluate a condition against computed signals. An empty condition always holds."""
    if not source.strip():
        return True
    return parse(source).holds(signals)
