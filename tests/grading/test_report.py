"""The session report: per-rubric scores and trends, R:Q, strengths, improvements, best moment."""

from __future__ import annotations

from app.grading.models import Grade, Method, Rubric
from app.grading.report import Report, build_report, report_markdown, rq_band
from app.interview.models import HiddenFact, Turn

ANCHORS = {1: "poor work", 2: "weak work", 3: "fair work", 4: "good work", 5: "excellent work"}


def rubric(rubric_id: str, title: str, *, scope: str = "turn", side: str = "interviewer") -> Rubric:
    return Rubric.model_validate(
        {
            "id": rubric_id,
            "title": title,
            "applies_to": side,
            "scope": scope,
            "criterion": f"Does the turn show {title.lower()}?",
            "anchors": ANCHORS,
            "exemplar": "So the rollback scared you more than the outage?",
            "tip": f"Practise {title.lower()} on every turn.",
        }
    )


RUBRICS = [
    rubric("listen-actively", "Listen actively"),
    rubric("conversation-not-interrogation", "Conversation not interrogation"),
    rubric("passions-not-positions", "Passions not positions"),
    rubric("start-with-their-story", "Start with their story"),
    rubric("share-your-vision", "Share your vision", scope="session"),
    rubric("show-your-true-self", "Show your true self", side="candidate"),
]

TURNS = [
    Turn("interviewer", "How did you end up in logistics software?"),
    Turn("candidate", "I started at a courier firm fixing their routing spreadsheets in 2016."),
    Turn("interviewer", "So the spreadsheets pulled you in. What made routing stick for you?"),
    Turn("candidate", "Honestly the puzzle of it: every late van was a bug I could fix."),
    Turn("interviewer", "Why? When? Where? Who?"),
    Turn("candidate", "Mostly at night, in Leeds, with one other engineer, Priya."),
]


def g(
    rubric_id: str, index: int | None, score: int | None, evidence: str = "",
    method: Method = "signals",
) -> Grade:
    return Grade(
        rubric_id=rubric_id, score=score, evidence=evidence, rationale=f"{rubric_id} at {index}",
        tip="tip", method=method, turn_index=index,
    )


TURN_GRADES = [
    g("listen-actively", 0, None),
    g("listen-actively", 2, 5, "So the spreadsheets pulled you in", "llm+signals"),
    g("listen-actively", 4, 1, "Why? When?"),
    g("conversation-not-interrogation", 0, 3),
    g("conversation-not-interrogation", 2, 4),
    g("conversation-not-interrogation", 4, 1, "Why? When? Where? Who?"),
    g("passions-not-positions", 0, 3),
    g("passions-not-positions", 2, 5, "What made routing stick for you?"),
    g("passions-not-positions", 4, 2),
    g("start-with-their-story", 0, 5, "How did you end up in logistics software?"),
    g("start-with-their-story", 2, None),
    g("start-with-their-story", 4, None),
]
SESSION_GRADES = [g("share-your-vision", None, 2, "")]


def report(**kwargs: object) -> Report:
    values: dict[str, object] = {"human_side": "interviewer", "rubrics": RUBRICS}
    values.update(kwargs)
    return build_report(TURNS, TURN_GRADES, SESSION_GRADES, **values)  # type: ignore[arg-type]


def test_each_rubric_has_mean_score_trend_count_and_method() -> None:
    out = report()
    by_id = {r.rubric_id: r for r in out.rubrics}
    assert "show-your-true-self" not in by_id  # the other side's rubric is left out
    listen = by_id["listen-actively"]
    assert listen.score == 3.0 and listen.n_graded == 2
    assert [(p.turn_index, p.score) for p in listen.trend] == [(2, 5), (4, 1)]
    assert listen.method == "mixed"
    assert by_id["conversation-not-interrogation"].score == 2.67
    assert by_id["conversation-not-interrogation"].method == "signals"
    assert by_id["share-your-vision"].score == 2.0 and by_id["share-your-vision"].scope == "session"
    assert by_id["start-with-their-story"].n_graded == 1
    assert out.overall_score == round((3.0 + 2.67 + 3.33 + 5.0 + 2.0) / 5, 2)


def test_strengths_and_improvements_are_ranked_with_quotes_and_tips() -> None:
    out = report()
    assert [s.rubric_id for s in out.strengths] == [
        "start-with-their-story", "passions-not-positions", "listen-actively"
    ]
    assert [s.rubric_id for s in out.improvements] == [
        "share-your-vision", "conversation-not-interrogation"
    ]
    best = out.strengths[0]
    assert best.quote == "How did you end up in logistics software?"
    assert best.tip == "Practise start with their story on every turn."
    worst = out.improvements[1]
    assert worst.quote == "Why? When? Where? Who?" and worst.turn_index == 4
    # a grade without evidence falls back to the words of its turn
    assert out.strengths[1].quote == "What made routing stick for you?"


def test_best_moment_is_the_turn_with_the_highest_mean_grade() -> None:
    moment = report().best_moment
    assert moment is not None
    assert moment.turn_index == 2
    assert moment.score == round((5 + 4 + 5) / 3, 2)
    assert moment.quote.startswith("So the spreadsheets pulled you in")
    assert moment.scores["listen-actively"] == 5


def test_talk_share_rq_and_streak_come_from_the_session_signals() -> None:
    out = report()
    assert set(out.talk_share) == {"interviewer", "candidate"}
    assert abs(sum(out.talk_share.values()) - 1) < 0.01
    assert out.talk_share["candidate"] > out.talk_share["interviewer"]
    assert out.reflection_to_question_band in {"below fair", "fair", "good"}
    assert out.signals["questions"] >= 3
    assert out.longest_question_streak == out.signals["longest_question_streak"]
    assert out.hidden_facts is None


def test_rq_bands_follow_motivational_interviewing() -> None:
    assert rq_band(0, 0)[1] == "no questions"
    assert rq_band(1, 4)[:2] == (0.25, "below fair")
    assert rq_band(3, 3)[:2] == (1.0, "fair")
    assert rq_band(4, 2)[:2] == (2.0, "good")
    assert "2:1" in rq_band(1, 4)[2] and "1:1" in rq_band(1, 4)[2]


def test_hidden_facts_discovered_out_of_total_for_manager_practice() -> None:
    facts = [
        HiddenFact(text="worked with Priya in Leeds at night", triggers=["team"]),
        HiddenFact(text="was laid off twice during the pandemic", triggers=["leave"]),
    ]
    out = report(hidden_facts=facts)
    assert out.hidden_facts is not None
    assert out.hidden_facts.total == 2
    assert out.hidden_facts.discovered == ["worked with Priya in Leeds at night"]


def test_report_without_grades_is_still_a_report() -> None:
    out = build_report(TURNS, [], [], human_side="interviewer", rubrics=RUBRICS)
    assert out.overall_score is None and out.best_moment is None
    assert out.strengths == [] and out.improvements == []
    assert all(r.score is None and r.n_graded == 0 for r in out.rubrics)
    assert "No turn was graded." in report_markdown(out)


def test_few_rubrics_split_between_strengths_and_improvements() -> None:
    grades = [g("listen-actively", 2, 4), g("passions-not-positions", 2, 3)]
    out = build_report(TURNS, grades, [], human_side="interviewer", rubrics=RUBRICS[:3])
    assert [s.rubric_id for s in out.strengths] == ["listen-actively"]
    assert [s.rubric_id for s in out.improvements] == ["passions-not-positions"]


def test_markdown_is_clean_and_has_every_section() -> None:
    text = report_markdown(report())
    for heading in ("# Interview report", "## Scores", "## Conversation", "## Strengths",
                    "## To improve", "## Best moment"):
        assert heading in text
    assert "| Listen actively | 3.0 | 5 → 1 | 2 | mixed |" in text
    assert "| Share your vision | 2.0 | - | session | signals |" in text
    assert "R:Q" in text and "Longest run of question-only turns" in text
    assert "> So the spreadsheets pulled you in" in text
    assert "Tip: Practise start with their story on every turn." in text
    assert text.endswith("\n") and "<" not in text


def test_markdown_escapes_what_people_typed() -> None:
    turns = [Turn("interviewer", "Tell me <script>alert(1)</script> | *bold* [link](x)"),
             Turn("candidate", "Sure.")]
    grades = [g("listen-actively", 0, 4, "<script>alert(1)</script> | *bold*")]
    text = report_markdown(build_report(turns, grades, [], human_side="interviewer",
                                        rubrics=RUBRICS))
    assert "<script>" not in text
    assert "\\<script\\>" in text and "\\*bold\\*" in text and "\\[link\\]" in text


def test_report_round_trips_as_json() -> None:
    out = report()
    again = Report.model_validate_json(out.model_dump_json())
    assert again == out


def test_markdown_counts_turns_from_one_while_json_stays_zero_based() -> None:
    out = report()
    assert out.best_moment is not None and out.best_moment.turn_index == 2
    assert out.improvements[1].turn_index == 4
    text = report_markdown(out)
    # The web pages call transcript index 2 "Turn 3"; the Markdown must agree.
    assert "Turn 3, scoring" in text and "Turn 2," not in text
    assert "**Conversation not interrogation** (2.7/5) (turn 5)" in text
    assert "(turn 1)" in text  # start-with-their-story at index 0
    assert "(turn 0)" not in text
    data = out.model_dump()
    assert data["best_moment"]["turn_index"] == 2
    assert [p["turn_index"] for p in data["rubrics"][0]["trend"]] == [2, 4]
