"""Agreement between a grader and hand-labelled turns: exact, within-one, Spearman and QWK.

Pure Python (no numpy). A labelled item is one human turn with the turns before it, the rubric
it is scored on and a 1-5 score with a one-line reason. Session rubrics score the whole
conversation that ends with the item's turn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.content import format_validation_error
from app.grading.models import Grade, Rubric
from app.grading.scoring import signals_grade
from app.grading.signals import session_signals, turn_signals
from app.interview.errors import ContentError
from app.interview.models import Side, Turn, other_side

MAX_LABEL_BYTES = 4 * 1024 * 1024
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
NA_STAND_IN = 3  # a grader's N/A counts as a miss, and as the midpoint for rank statistics


class ContextTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    speaker: Side
    text: str = Field(min_length=1)


class LabelledTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    rubric_id: str = Field(min_length=1)
    human_side: Side
    context: list[ContextTurn] = Field(default_factory=list)
    text: str = Field(min_length=1)
    score: int = Field(ge=1, le=5)
    reason: str = Field(min_length=3)
    split: str = Field("dev", description="'holdout' marks items labelled after rules were tuned")

    def turns(self) -> list[Turn]:
        """The conversation up to and including the labelled turn."""
        return [Turn(t.speaker, t.text) for t in self.context] + [Turn(self.human_side, self.text)]


def load_labels(path: Path) -> list[LabelledTurn]:
    """Read labelled turns from YAML (a list) or JSON Lines; errors name the item and field."""
    try:
        if path.stat().st_size > MAX_LABEL_BYTES:
            raise ContentError(f"{path}: larger than {MAX_LABEL_BYTES} bytes")
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"{path}: cannot read file ({exc.strerror})") from exc
    try:
        if path.suffix in (".jsonl", ".ndjson"):
            data: Any = [json.loads(line) for line in raw.splitlines() if line.strip()]
        elif path.suffix == ".json":
            data = json.loads(raw)
        else:
            data = yaml.load(raw, Loader=_YAML_LOADER)  # the C loader is ten times faster
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: cannot parse labels ({exc})") from exc
    if not isinstance(data, list) or not data:
        raise ContentError(f"{path}: expected a non-empty list of labelled turns")
    items = []
    for i, entry in enumerate(data):
        try:
            items.append(LabelledTurn.model_validate(entry))
        except ValidationError as exc:
            raise ContentError(format_validation_error(f"{path}: item {i}", exc)) from None
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ContentError(f"{path}: id '{item.id}' appears twice")
        seen.add(item.id)
    return items


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # ties share their average rank
        i = j + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho with average ranks for ties; None when either side is constant."""
    return pearson(_ranks(xs), _ranks(ys))


def quadratic_weighted_kappa(
    labels: Sequence[int], predictions: Sequence[int], low: int = 1, high: int = 5
) -> float | None:
    """Cohen's kappa with quadratic weights over the scores ``low``..``high``."""
    if len(labels) != len(predictions) or not labels:
        return None
    k = high - low + 1
    observed = [[0.0] * k for _ in range(k)]
    for a, b in zip(labels, predictions, strict=True):
        observed[a - low][b - low] += 1
    n = len(labels)
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            num += weight * observed[i][j]
            den += weight * rows[i] * cols[j] / n
    if den == 0:
        return 1.0 if num == 0 else None
    return 1 - num / den


@dataclass
class Agreement:
    """Agreement figures for one group of items."""

    name: str
    n: int
    exact: float
    within_one: float
    spearman: float | None
    qwk: float | None
    not_applicable: int

    @classmethod
    def of(cls, name: str, labels: Sequence[int], predicted: Sequence[int | None]) -> Agreement:
        filled = [NA_STAND_IN if p is None else p for p in predicted]
        pairs = list(zip(labels, predicted, strict=True))
        n = len(pairs)
        return cls(
            name=name,
            n=n,
            exact=sum(p == a for a, p in pairs) / n if n else 0.0,
            within_one=sum(p is not None and abs(p - a) <= 1 for a, p in pairs) / n if n else 0.0,
            spearman=spearman([float(x) for x in labels], [float(x) for x in filled]),
            qwk=quadratic_weighted_kappa(list(labels), filled),
            not_applicable=sum(p is None for p in predicted),
        )


@dataclass
class Calibration:
    """Per-rubric and overall agreement, plus every item's prediction for inspection."""

    rows: list[Agreement]
    overall: Agreement
    predictions: list[tuple[LabelledTurn, Grade]] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            "| rubric | n | exact | within one | Spearman | QWK |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in [*self.rows, self.overall]:
            name = f"**{row.name}**" if row is self.overall else row.name
            lines.append(
                f"| {name} | {row.n} | {row.exact:.2f} | {row.within_one:.2f} | "
                f"{_fmt(row.spearman)} | {_fmt(row.qwk)} |"
            )
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def signals_grade_item(item: LabelledTurn, rubric: Rubric, stock: Sequence[str] = ()) -> Grade:
    """Grade one labelled item with signals alone, the way the grader does."""
    turns = item.turns()
    if rubric.scope == "session":
        signals = session_signals(turns, item.human_side, stock_phrases=stock)
        mine = "\n".join(t.text for t in turns if t.speaker == item.human_side)
        theirs = "\n".join(t.text for t in turns if t.speaker != item.human_side)
        return signals_grade(rubric, signals, mine, theirs)
    signals = turn_signals(turns, len(turns) - 1, stock_phrases=stock)
    partner = next(
        (t.text for t in reversed(turns[:-1]) if t.speaker == other_side(item.human_side)), ""
    )
    return signals_grade(rubric, signals, item.text, partner)


def summarise(pairs: list[tuple[LabelledTurn, Grade]]) -> Calibration:
    rubric_ids = sorted({item.rubric_id for item, _ in pairs})
    rows = []
    for rubric_id in rubric_ids:
        mine = [(item, grade) for item, grade in pairs if item.rubric_id == rubric_id]
        rows.append(Agreement.of(rubric_id, [i.score for i, _ in mine], [g.score for _, g in mine]))
    overall = Agreement.of("overall", [i.score for i, _ in pairs], [g.score for _, g in pairs])
    return Calibration(rows, overall, pairs)


def _rubric_for(item: LabelledTurn, rubrics: dict[str, Rubric]) -> Rubric:
    try:
        return rubrics[item.rubric_id]
    except KeyError:
        valid = ", ".join(sorted(rubrics))
        raise ContentError(
            f"label '{item.id}': unknown rubric_id '{item.rubric_id}'. Valid ids: {valid}"
        ) from None


def calibrate_signals(items: Sequence[LabelledTurn], rubrics: Sequence[Rubric]) -> Calibration:
    """Agreement of the signals-only grader with the labels."""
    by_id = {r.id: r for r in rubrics}
    stock = {
        side: tuple(sorted({p for r in rubrics if r.applies_to == side for p in r.stock_phrases}))
        for side in ("interviewer", "candidate")
    }
    pairs = []
    for item in items:
        rubric = _rubric_for(item, by_id)
        pairs.append((item, signals_grade_item(item, rubric, stock[item.human_side])))
    return summarise(pairs)


GradeItem = Callable[[LabelledTurn, Rubric], Awaitable[Grade]]


async def calibrate_with(
    items: Sequence[LabelledTurn],
    rubrics: Sequence[Rubric],
    grade: GradeItem,
    progress: Callable[[], None] | None = None,
) -> Calibration:
    """Agreement of any grader (for example the judge) with the labels, one item at a time."""
    by_id = {r.id: r for r in rubrics}
    pairs = []
    for item in items:
        pairs.append((item, await grade(item, _rubric_for(item, by_id))))
        if progress is not None:
            progress()
    return summarise(pairs)
