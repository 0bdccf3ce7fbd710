"""The rubric condition language: small, safe, and strict about names."""

from __future__ import annotations

import pytest

from app.grading.conditions import holds, parse, validate
from app.interview.errors import ContentError

SIGNALS = {"questions_in_turn": 3, "reflects": False, "follow_up_overlap": 0.2, "words": 40}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("questions_in_turn >= 3", True),
        ("questions_in_turn > 3", False),
        ("questions_in_turn == 3", True),
        ("questions_in_turn != 3", False),
        ("follow_up_overlap < 0.25", True),
        ("follow_up_overlap <= 0.1", False),
        ("reflects", False),
        ("not reflects", True),
        ("reflects == 0", True),  # booleans compare as 0 and 1
        ("not reflects and questions_in_turn >= 3", True),
        ("reflects or words > 30", True),
        ("reflects and words > 30 or questions_in_turn == 3", True),  # "and" binds tighter
        ("reflects or words > 50 and questions_in_turn == 3", False),
        ("  QUESTIONS_IN_TURN>=3  ", True),
        ("true", True),
        ("not true", False),
        ("", True),
    ],
)
def test_conditions_evaluate(condition: str, expected: bool) -> None:
    assert holds(condition, SIGNALS) is expected


@pytest.mark.parametrize(
    "bad",
    [
        "__import__('os').system('true')",
        "questions_in_turn >= three",
        "questions_in_turn => 3",
        "reflects and",
        "(reflects)",
        "words >= 3 >= 2",
        "signals.words > 1",
    ],
)
def test_anything_else_is_refused_without_eval(bad: str) -> None:
    with pytest.raises(ContentError, match="cannot read condition part"):
        parse(bad)


def test_unknown_signal_names_are_named_with_the_valid_ones() -> None:
    with pytest.raises(ContentError) as caught:
        validate(
            "questions >= 3 and not reflect",
            {"questions_in_turn", "reflects"},
            where="caps[0].when",
        )
    message = caught.value.message
    assert message.startswith("caps[0].when: unknown signal 'questions', 'reflect'")
    assert "Known signals: questions_in_turn, reflects" in message


def test_names_of_a_parsed_condition() -> None:
    assert parse("a >= 1 or not b and true").names == {"a", "b"}


def test_missing_or_non_numeric_signals_fail_loudly() -> None:
    with pytest.raises(KeyError, match="signal 'nope' is missing"):
        holds("nope > 1", SIGNALS)
    with pytest.raises(TypeError, match="not a number"):
        holds("speaker > 1", {"speaker": "candidate"})
