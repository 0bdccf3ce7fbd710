"""The rubric catalogue: every rubric file in a folder, validated down to its signal conditions."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.content import load_dir, load_file
from app.grading.conditions import validate
from app.grading.models import Rubric
from app.grading.signals import SESSION_SIGNALS, TURN_SIGNALS
from app.interview.errors import ContentError, InvalidInput, NotFound
from app.interview.models import Side

SCOPES = ("turn", "session")
THRESHOLD_KEYS = frozenset({"min", "max"})


def known_signals(rubric: Rubric) -> Mapping[str, str]:
    """The signal names a rubric's conditions may use: turn signals or session signals."""
    return TURN_SIGNALS if rubric.scope == "turn" else SESSION_SIGNALS


def validate_rubric(rubric: Rubric, *, source: str = "") -> Rubric:
    """Check every condition and signal target against the known signals of the rubric's scope.

    Raises ContentError naming the file (``source``), the field and the valid signal names.
    """
    prefix = f"{source or rubric.id}: "
    known = known_signals(rubric)
    try:
        if rubric.applies_when.strip():
            validate(rubric.applies_when, known, where="applies_when")
        for i, cap in enumerate(rubric.caps):
            validate(cap.when, known, where=f"caps[{i}].when")
        for i, rule in enumerate(rubric.scoring.rules):
            validate(rule.when, known, where=f"scoring.rules[{i}].when")
    except ContentError as exc:
        raise ContentError(prefix + exc.message) from None
    for name, bounds in rubric.signals.items():
        if name not in known:
            raise ContentError(
                f"{prefix}signals.{name}: unknown {rubric.scope} signal. "
                f"Known signals: {', '.join(sorted(known))}"
            )
        extra = set(bounds) - THRESHOLD_KEYS
        if extra or not bounds:
            raise ContentError(
                f"{prefix}signals.{name}: expected a 'min' and/or 'max' target, "
                f"got {sorted(bounds) or 'nothing'}"
            )
    return rubric


def load_rubric(path: Path) -> Rubric:
    """Load and validate one rubric file."""
    return validate_rubric(load_file(Rubric, path), source=str(path))


class RubricCatalog:
    """Rubrics by id. ``from_dir`` validates every file and every condition in it."""

    def __init__(self, rubrics: Mapping[str, Rubric]) -> None:
        self._rubrics = dict(sorted(rubrics.items()))

    @classmethod
    def from_dir(cls, folder: Path, *, strict: bool = True) -> RubricCatalog:
        """Load ``folder/*.yaml``. With ``strict`` any broken file raises one ContentError
        listing every problem; otherwise broken files are left out."""
        loaded, errors = load_dir(Rubric, folder)
        rubrics: dict[str, Rubric] = {}
        for ident, rubric in loaded.items():
            try:
                rubrics[ident] = validate_rubric(rubric, source=str(folder / f"{ident}.yaml"))
            except ContentError as exc:
                errors.append(exc.message)
        if errors and strict:
            raise ContentError("\n".join(errors))
        return cls(rubrics)

    def get(self, rubric_id: str) -> Rubric:
        try:
            return self._rubrics[rubric_id]
        except KeyError:
            raise NotFound("rubric", rubric_id, list(self._rubrics)) from None

    def list(self, side: Side | None = None, scope: str | None = None) -> list[Rubric]:
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"scope: expected one of {', '.join(SCOPES)}, got {scope!r}")
        return [
            r
            for r in self._rubrics.values()
            if (side is None or r.applies_to == side) and (scope is None or r.scope == scope)
        ]

    def ids(self) -> builtins.list[str]:
        return list(self._rubrics)

    def choose(
        self, side: Side, ids: Sequence[str] | None, *, field: str, why: str = ""
    ) -> builtins.list[Rubric]:
        """The rubrics named by ``ids`` (every rubric for ``side`` when none are named).

        Each must grade ``side``; otherwise InvalidInput names ``field``, the wrong ids, the
        reason ``why`` and the valid choices.
        """
        if not ids:
            return self.list(side=side)
        rubrics = [self.get(rubric_id) for rubric_id in dict.fromkeys(ids)]
        wrong = [r.id for r in rubrics if r.applies_to != side]
        if wrong:
            valid = ", ".join(r.id for r in self.list(side=side))
            because = why or f"for the {side} side"
            raise InvalidInput(
                field, f"{', '.join(wrong)} grade the other side {because}. Choose from: {valid}"
            )
        return rubrics

    def stock_phrases(self, side: Side) -> tuple[str, ...]:
        """Every stock phrase listed by the rubrics that grade ``side``."""
        return tuple(sorted({p for r in self.list(side) for p in r.stock_phrases}))

    def __contains__(self, rubric_id: object) -> bool:
        return rubric_id in self._rubrics

    def __len__(self) -> int:
        return len(self._rubrics)
