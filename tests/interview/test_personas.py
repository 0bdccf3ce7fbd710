"""The persona schema, its error messages, and the depth of every shipped persona."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.content import MAX_CONTENT_BYTES, load_dir, load_file
from app.grading.models import Rubric
from app.interview.cards import CANDIDATE_PERSONA_RUBRICS, INTERVIEWER_PERSONA_RUBRICS
from app.interview.errors import ContentError
from app.interview.models import Persona
from app.interview.personas import PersonaCatalog

PERSONAS = PROJECT_ROOT / "personas"
RUBRICS = PROJECT_ROOT / "rubrics"
BROKEN = Path(__file__).parent / "fixtures" / "broken"


@pytest.fixture(scope="module")
def catalog() -> PersonaCatalog:
    return PersonaCatalog.from_dir(PERSONAS)


def word_count(text: str) -> int:
    return len(text.split())


# --- broken files: each message names the file, the field and what is expected -------------

BROKEN_CASES = [
    ("missing-ask.yaml", "agenda[2].ask", "field required (the question to ask at this step)"),
    ("wrong-side.yaml", "side", "'interviewer' or 'candidate' (got 'recruiter')"),
    ("wrong-type.yaml", "style.max_words", "valid integer"),
    ("unknown-field.yaml", "hiden", "unknown field"),
    ("python-tag.yaml", "line 3", "Python objects (like !!python/object) are refused"),
    ("id-mismatch.yaml", "id", "'someone-else' must match the file name 'id-mismatch'"),
    ("no-agenda.yaml", "(top level)", "an interviewer needs an agenda"),
    ("fact-without-triggers.yaml", "hidden.facts[0].triggers", "at least 1 item"),
    ("not-a-mapping.yaml", "top level", "expected a mapping of fields"),
]


@pytest.mark.parametrize(("name", "field", "expected"), BROKEN_CASES)
def test_a_broken_file_names_file_field_and_expectation(
    name: str, field: str, expected: str
) -> None:
    path = BROKEN / name
    with pytest.raises(ContentError) as caught:
        load_file(Persona, path)
    message = caught.value.message
    assert message.startswith(f"{path}: ")
    assert f": {field}" in message or f" {field}" in message
    assert expected in message


def test_every_broken_fixture_is_covered() -> None:
    assert {p.name for p in BROKEN.glob("*.yaml")} == {case[0] for case in BROKEN_CASES}


def test_python_tags_never_build_objects(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bad = tmp_path / "evil.yaml"
    bad.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ContentError, match="are refused"):
        load_file(Persona, bad)
    assert not marker.exists()


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("id: big\nbackstory: " + "x" * (MAX_CONTENT_BYTES + 1) + "\n")
    with pytest.raises(ContentError) as caught:
        load_file(Persona, big)
    assert str(big) in caught.value.message
    assert f"the limit is {MAX_CONTENT_BYTES} bytes" in caught.value.message


def test_a_folder_of_broken_files_reports_every_file(tmp_path: Path) -> None:
    shutil.copytree(BROKEN, tmp_path / "personas")
    shutil.copy(PERSONAS / "maya-startup-eng-manager.yaml", tmp_path / "personas")
    personas, errors = load_dir(Persona, tmp_path / "personas")
    assert list(personas) == ["maya-startup-eng-manager"]
    for name, _, _ in BROKEN_CASES:
        assert any(name in error for error in errors), name
    with pytest.raises(ContentError, match=r"missing-ask\.yaml"):
        PersonaCatalog.from_dir(tmp_path / "personas")


def test_several_errors_in_one_file_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "two-faults.yaml"
    path.write_text(
        "id: two-faults\nside: interviewer\nname: A\nrole: B\ncompany: C\nfirst_message: Hi\n"
        "difficulty: brutal\nagenda:\n  - {phase: warmup, ask: 'How are you'}\n"
    )
    with pytest.raises(ContentError) as caught:
        load_file(Persona, path)
    lines = caught.value.message.splitlines()
    assert any("difficulty:" in line and "'brutal'" in line for line in lines)
    assert any("agenda[0].phase:" in line and "'warmup'" in line for line in lines)


# --- the shipped personas -------------------------------------------------------------------


def test_every_shipped_file_loads_and_file_name_is_the_id(catalog: PersonaCatalog) -> None:
    files = sorted(PERSONAS.glob("*.yaml"))
    assert [p.stem for p in files] == catalog.ids()
    assert len(catalog) >= 10


def test_both_sides_are_well_represented(catalog: PersonaCatalog) -> None:
    assert len(catalog.list("interviewer")) >= 5
    assert len(catalog.list("candidate")) >= 5


def test_the_named_personas_exist(catalog: PersonaCatalog) -> None:
    maya = catalog.get("maya-startup-eng-manager")
    assert (maya.name, maya.side) == ("Maya Okafor", "interviewer")
    assert "Lumen Logistics" in maya.company and "Series B" in maya.company
    tendencies = {p.tendency for p in catalog.list("candidate")}
    assert {"oversells", "nervous", "strong", "rambles", "balanced"} <= tendencies
    roles = " ".join(f"{p.role} {p.company}".lower() for p in catalog.list("interviewer"))
    for word in ("finance", "talent", "nurse", "principal"):
        assert word in roles


def test_every_persona_has_a_distinct_voice_and_a_card_line(catalog: PersonaCatalog) -> None:
    voices = [p.style.voice for p in catalog.list()]
    assert all(word_count(v) >= 20 for v in voices)
    assert len(set(voices)) == len(voices)
    for persona in catalog.list():
        assert 10 <= len(persona.temperament) <= 160, persona.id
        assert word_count(persona.backstory) >= 60, persona.id
        assert persona.goal and persona.first_message and persona.closing_message, persona.id
        assert len(persona.traits) >= 3, persona.id
        assert len(persona.facts) >= 4, persona.id
        assert len(persona.hidden.concerns) >= 2, persona.id


def test_industries_and_difficulties_vary(catalog: PersonaCatalog) -> None:
    companies = " ".join(p.company.lower() for p in catalog.list())
    industries = ("logistics", "payroll", "hospital", "school", "climate", "grocery", "restaurant")
    for industry in industries:
        assert industry in companies
    assert {p.difficulty for p in catalog.list()} == {"easy", "medium", "hard"}


def test_interviewer_agendas_walk_story_topics_vision_questions_close(
    catalog: PersonaCatalog,
) -> None:
    for persona in catalog.list("interviewer"):
        phases = [step.phase for step in persona.agenda]
        assert 5 <= len(phases) <= 8, persona.id
        assert phases[0] == "story" and phases[-1] == "close", persona.id
        assert "topic" in phases and "questions" in phases, persona.id
        order = ["story", "topic", "vision", "questions", "close"]
        assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
        vision = [s for s in persona.agenda if s.phase == "vision"]
        assert vision and all(word_count(s.share) >= 20 for s in vision), persona.id
        for index, step in enumerate(persona.agenda):
            where = f"{persona.id} agenda[{index}]"
            assert 2 <= len(step.follow_ups) <= 3, where
            assert step.keywords and step.topic, where


def test_interviewers_hide_facts_that_a_question_can_draw_out(catalog: PersonaCatalog) -> None:
    for persona in catalog.list("interviewer"):
        assert len(persona.hidden.facts) >= 3, persona.id
        assert len(persona.hidden.concerns) >= 2, persona.id



def test_interviewers_can_answer_the_questions_candidates_usually_ask(
    catalog: PersonaCatalog,
) -> None:
    usual = {
        "team", "salary", "process", "culture", "growth", "success_in_90_days", "who_decides",
        "key_metric", "where_we_are_heading", "why_the_role_is_open", "feedback", "what_i_enjoy",
    }  # fmt: skip
    for persona in catalog.list("interviewer"):
        assert usual <= set(persona.facts), f"{persona.id}: {sorted(usual - set(persona.facts))}"
        assert all(word_count(text) >= 6 for text in persona.facts.values()), persona.id


def test_candidates_have_stories_facts_and_questions(catalog: PersonaCatalog) -> None:
    for persona in catalog.list("candidate"):
        assert len(persona.stories) >= 6, persona.id
        for story in persona.stories:
            assert 60 <= word_count(story.text) <= 150, f"{persona.id}: {story.title}"
            assert story.title, persona.id
        topics = {t for story in persona.stories for t in story.topics}
        assert {"conflict", "failure", "motivation"} <= topics, persona.id
        assert len(persona.hidden.facts) >= 4, persona.id
        assert len(persona.questions_to_ask) >= 4, persona.id
        assert all("?" in q for q in persona.questions_to_ask), persona.id
        assert persona.agenda == [], persona.id


def test_hidden_fact_triggers_are_plain_lowercase_phrases(catalog: PersonaCatalog) -> None:
    for persona in catalog.list():
        for fact in persona.hidden.facts:
            assert len(fact.triggers) >= 3, f"{persona.id}: {fact.text}"
            assert all(t == t.lower().strip() and t for t in fact.triggers), persona.id


def test_hidden_facts_are_not_given_away_in_public_lines(catalog: PersonaCatalog) -> None:
    for persona in catalog.list():
        public = " ".join([persona.first_message, persona.closing_message, *persona.facts.values()])
        for fact in persona.hidden.facts:
            assert fact.text not in public, persona.id


def test_each_side_is_graded_by_the_rubrics_for_the_human_opposite(
    catalog: PersonaCatalog,
) -> None:
    for persona in catalog.list("interviewer"):
        assert persona.rubrics == list(INTERVIEWER_PERSONA_RUBRICS), persona.id
    for persona in catalog.list("candidate"):
        assert persona.rubrics == list(CANDIDATE_PERSONA_RUBRICS), persona.id


def test_persona_rubric_ids_exist_and_grade_the_human_side(catalog: PersonaCatalog) -> None:
    rubrics, errors = load_dir(Rubric, RUBRICS)
    if not rubrics and not errors:
        pytest.skip("no rubric files shipped yet")
    for persona in catalog.list():
        for rubric_id in persona.rubrics:
            assert rubric_id in rubrics, f"{persona.id}: {rubric_id}"
            assert rubrics[rubric_id].applies_to == persona.human_side, rubric_id
