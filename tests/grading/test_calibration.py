"""Calibration: agreement figures computed by hand, the labelled set, and a regression guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import PROJECT_ROOT
from app.grading.calibrate import (
    Agreement,
    LabelledTurn,
    calibrate_signals,
    calibrate_with,
    load_labels,
    quadratic_weighted_kappa,
    spearman,
)
from app.grading.models import Grade, Rubric
from app.grading.rubrics import RubricCatalog
from app.interview.errors import ContentError

LABELS = PROJECT_ROOT / "calibration" / "labels.yaml"
CATALOG = RubricCatalog.from_dir(PROJECT_ROOT / "rubrics")

# Measured with the signals grader when the rules were last tuned (see README). The guard
# allows a little slack so a deliberate rule change that costs one item does not fail CI.
MEASURED_WITHIN_ONE = 1.00
MEASURED_QWK = 0.94
HOLDOUT_WITHIN_ONE = 1.00


def test_spearman_by_hand() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties share ranks: x ranks 1, 2.5, 2.5, 4 against y ranks 1, 2, 3, 4
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)
    assert spearman([3, 3, 3], [1, 2, 3]) is None


def test_quadratic_weighted_kappa_by_hand() -> None:
    assert quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert quadratic_weighted_kappa([1, 1, 2, 2], [1, 2, 1, 2]) == pytest.approx(0.0)
    assert quadratic_weighted_kappa([1, 2, 4, 5], [5, 4, 2, 1]) < -0.9
    # one step off among five: observed 1/16 against an expected 17/16
    assert quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 4]) == pytest.approx(1 - 1 / 17)
    assert quadratic_weighted_kappa([], []) is None


def test_not_applicable_counts_as_a_miss() -> None:
    row = Agreement.of("r", [3, 5, 1], [None, 5, 2])
    assert row.n == 3 and row.not_applicable == 1
    assert row.exact == pytest.approx(1 / 3) and row.within_one == pytest.approx(2 / 3)


def test_the_labelled_set_is_broad() -> None:
    items = load_labels(LABELS)
    assert len(items) >= 80
    assert {i.rubric_id for i in items} == set(CATALOG.ids())
    assert {i.human_side for i in items} == {"interviewer", "candidate"}
    assert {i.score for i in items} == {1, 2, 3, 4, 5}
    for rubric_id in CATALOG.ids():
        scores = {i.score for i in items if i.rubric_id == rubric_id}
        assert len(scores) >= 3, rubric_id  # each rubric sees good, middling and poor turns
    assert sum(i.split == "holdout" for i in items) >= 20


def test_signals_grader_agreement_does_not_regress() -> None:
    items = load_labels(LABELS)
    result = calibrate_signals(items, CATALOG.list())
    assert result.overall.within_one >= MEASURED_WITHIN_ONE - 0.05
    assert result.overall.qwk is not None and result.overall.qwk >= MEASURED_QWK - 0.07
    assert result.overall.spearman is not None and result.overall.spearman >= 0.8
    holdout = calibrate_signals([i for i in items if i.split == "holdout"], CATALOG.list())
    assert holdout.overall.within_one >= HOLDOUT_WITHIN_ONE - 0.1
    assert "| **overall** | 125 |" in result.markdown() or result.overall.n != 125


async def test_any_grader_can_be_calibrated() -> None:
    items = load_labels(LABELS)[:10]

    async def oracle(item: LabelledTurn, rubric: Rubric) -> Grade:
        return Grade(rubric_id=rubric.id, score=item.score)

    ticks: list[int] = []
    result = await calibrate_with(items, CATALOG.list(), oracle, lambda: ticks.append(1))
    assert result.overall.exact == 1.0 and len(ticks) == 10


def test_bad_labels_name_the_item_and_field(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"id": "a", "rubric_id": "listen-actively", "human_side": "interviewer", '
        '"text": "Hi", "score": 5, "reason": "fine"}\n'
        '{"id": "b", "rubric_id": "listen-actively", "human_side": "judge", '
        '"text": "Hi", "score": 7, "reason": "bad"}\n'
    )
    with pytest.raises(ContentError) as caught:
        load_labels(path)
    assert "item 1: human_side" in caught.value.message
    assert "item 1: score" in caught.value.message
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        "- {id: x, rubric_id: nope, human_side: candidate, text: Hi, score: 3, reason: why not}\n"
    )
    with pytest.raises(ContentError, match=r"unknown rubric_id 'nope'\. Valid ids: ask-insightful"):
        calibrate_signals(load_labels(unknown), CATALOG.list())


def test_calibrate_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAPPORT_LLM", "scripted")
    few = tmp_path / "few.jsonl"
    items = [i for i in load_labels(LABELS) if i.split == "holdout"][:4]
    few.write_text("".join(i.model_dump_json() + "\n" for i in items))
    runner = CliRunner()
    shown = runner.invoke(cli, ["calibrate", str(few), "--markdown"])
    assert shown.exit_code == 0, shown.output
    assert "| **overall** | 4 |" in shown.output
    table = runner.invoke(cli, ["calibrate", str(few), "--split", "holdout"])
    assert table.exit_code == 0 and "overall" in table.output and "QWK" in table.output
    monkeypatch.setenv("RAPPORT_JUDGE_MODEL", "off")
    judged = runner.invoke(cli, ["calibrate", str(few), "--judge"])
    assert judged.exit_code == 1 and "The judge is off" in judged.output
    missing = runner.invoke(cli, ["calibrate", str(few), "--split", "nope"])
    assert missing.exit_code == 1 and "--split: no labelled items" in missing.output
