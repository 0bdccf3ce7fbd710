"""The rubric catalogue: the eleven shipped rubrics load, and broken ones say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.config import PROJECT_ROOT
from app.grading.rubrics import RubricCatalog, load_rubric
from app.interview.errors import ContentError, NotFound

RUBRICS = PROJECT_ROOT / "rubrics"
DESIGN_TABLE = {
    "interviewer": {
        "start-with-their-story",
        "listen-actively",
        "share-your-vision",
        "passions-not-positions",
        "talk-shop-not-too-shop",
        "conversation-not-interrogation",
    },
    "candidate": {
        "show-your-true-self",
        "ask-insightful-questions",
        "specific-enthusiasm",
        "personal-touch",
        "solve-dont-sell",
    },
}


@pytest.fixture(scope="module")
def catalog() -> RubricCatalog:
    return RubricCatalog.from_dir(RUBRICS)


def test_the_eleven_rubrics_of_the_design_load(catalog: RubricCatalog) -> None:
    assert len(catalog) == 11
    for side, ids in DESIGN_TABLE.items():
        assert {r.id for r in catalog.list(side)} == ids  # type: ignore[arg-type]
    assert {r.id for r in catalog.list(scope="session")} == {
        "share-your-vision",
        "ask-insightful-questions",
    }
    assert catalog.ids() == sorted(catalog.ids())
    assert "listen-actively" in catalog


def test_every_rubric_is_complete(catalog: RubricCatalog) -> None:
    for rubric in catalog.list():
        assert rubric.caps and rubric.scoring.rules and rubric.signals, rubric.id
        assert rubric.stock_phrases and len(rubric.tip) > 30, rubric.id
        assert all(len(text) > 40 for text in rubric.anchors.values()), rubric.id


def test_the_caps_the_issue_asks_for(catalog: RubricCatalog) -> None:
    caps = {c.when: c.max_score for c in catalog.get("conversation-not-interrogation").caps}
    assert caps["questions_in_turn >= 3"] == 3
    listen = {c.when: c.max_score for c in catalog.get("listen-actively").caps}
    assert listen["not reflects"] <= 4 and min(listen.values()) <= 3
    assert catalog.get("start-with-their-story").applies_when == "opening_question"


def test_unknown_id_lists_the_valid_ones(catalog: RubricCatalog) -> None:
    with pytest.raises(NotFound) as caught:
        catalog.get("listen-harder")
    assert "listen-actively" in caught.value.message and caught.value.kind == "rubric"


def test_stock_phrases_of_a_side(catalog: RubricCatalog) -> None:
    phrases = catalog.stock_phrases("candidate")
    assert "what does growth look like here" in phrases
    assert "tell me about yourself" not in phrases


def test_list_refuses_an_unknown_scope(catalog: RubricCatalog) -> None:
    with pytest.raises(ValueError, match="scope: expected one of turn, session"):
        catalog.list(scope="meeting")


def write(folder: Path, name: str, **changes: object) -> Path:
    data = yaml.safe_load((RUBRICS / "listen-actively.yaml").read_text())
    data.update(id=name, **changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"caps": [{"when": "question_count >= 3", "max_score": 3}]},
            "caps[0].when: unknown signal 'question_count'",
        ),
        ({"applies_when": "partner_words >> 3"}, "applies_when: cannot read condition part"),
        (
            {
                "scoring": {
                    "base": 3,
                    "rules": [{"when": "reflects", "add": 1}, {"when": "eval(x)", "add": 1}],
                }
            },
            "scoring.rules[1].when: cannot read condition part",
        ),
        ({"signals": {"reflection": {"min": 1}}}, "signals.reflection: unknown turn signal"),
        ({"signals": {"reflects": {"least": 1}}}, "signals.reflects: expected a 'min' and/or"),
        ({"scope": "session"}, "applies_when: unknown signal 'has_partner_turn'"),  # turn signals
    ],
)
def test_broken_conditions_name_file_field_and_fix(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = write(tmp_path, "broken-rubric", **changes)
    with pytest.raises(ContentError) as caught:
        load_rubric(path)
    assert str(path) in caught.value.message and message in caught.value.message
    with pytest.raises(ContentError, match=r"broken-rubric\.yaml"):
        RubricCatalog.from_dir(tmp_path)


def test_a_lenient_catalogue_skips_broken_files(tmp_path: Path) -> None:
    write(tmp_path, "good-rubric")
    write(tmp_path, "bad-rubric", caps=[{"when": "nonsense > 1", "max_score": 2}])
    assert RubricCatalog.from_dir(tmp_path, strict=False).ids() == ["good-rubric"]
