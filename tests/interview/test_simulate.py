"""AI versus AI, and the terminal commands: ``rapport simulate`` and ``rapport practice``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.interview.checks import asking_sentences
from app.interview.errors import InvalidInput
from app.interview.models import Persona, Turn
from app.interview.personas import PersonaCatalog
from app.interview.simulate import simulate
from app.llm.scripted import ScriptedModel
from tests.interview.factories import candidate, interviewer


def assert_coherent(turns: list[Turn], asking: Persona, answering: Persona, limit: int) -> None:
    """What any reader of a transcript would expect of an interview."""
    assert 2 <= len(turns) <= limit
    assert [t.speaker for t in turns] == ["interviewer", "candidate"] * (len(turns) // 2) + [
        "interviewer"
    ] * (len(turns) % 2)
    assert turns[-1].speaker == "interviewer"
    assert turns[-1].meta["move_kind"] == "close"
    for turn in turns[1:]:
        persona = asking if turn.speaker == "interviewer" else answering
        assert turn.text.strip()
        assert len(turn.text.split()) <= persona.style.max_words
        assert not turn.meta["fallback"]
    for turn in turns[1:-1]:
        if turn.speaker == "interviewer":
            assert asking_sentences(turn.text)  # the interviewer keeps the conversation going
    answers = [t.text for t in turns if t.meta["move_kind"] == "answer"]
    assert len(answers) == len(set(answers))  # no story told twice while others are untold


async def test_a_pair_talks_through_the_whole_agenda() -> None:
    asking, answering = interviewer(), candidate()
    seen: list[Turn] = []
    turns = await simulate(
        asking,
        answering,
        turns=30,
        interviewer_model=ScriptedModel(),
        candidate_model=ScriptedModel(),
        on_turn=seen.append,
    )
    assert seen == turns
    assert_coherent(turns, asking, answering, 30)
    kinds = [t.meta["move_kind"] for t in turns]
    assert kinds[0] == "open"
    assert "ask" in kinds  # the candidate asked its own questions when invited
    assert "answer_question" in kinds  # and the interviewer answered them from its facts


async def test_a_short_budget_still_ends_with_a_close() -> None:
    turns = await simulate(
        interviewer(),
        candidate(),
        turns=5,
        interviewer_model=ScriptedModel(),
        candidate_model=ScriptedModel(),
    )
    assert len(turns) == 5
    assert turns[-1].meta["move_kind"] == "close"


async def test_each_side_speaks_through_its_own_model() -> None:
    asking_model, answering_model = ScriptedModel(), ScriptedModel()
    turns = await simulate(
        interviewer(),
        candidate(),
        turns=6,
        interviewer_model=asking_model,
        candidate_model=answering_model,
    )
    assert len(asking_model.requests) == 3
    assert len(answering_model.requests) == 2
    assert answering_model.requests[0].messages[0]["content"].startswith("You are Sam Patel")
    assert len(turns) == 5  # an even budget ends one turn early, on the interviewer's goodbye
    assert turns[-1].meta["move_kind"] == "close"


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        (candidate(), candidate(), "interviewer"),
        (interviewer(), interviewer(), "candidate"),
    ],
)
async def test_the_sides_must_be_right(first: Persona, second: Persona, field: str) -> None:
    model = ScriptedModel()
    with pytest.raises(InvalidInput) as caught:
        await simulate(first, second, turns=4, interviewer_model=model, candidate_model=model)
    assert caught.value.field == field


async def run_pairs(pairs: list[tuple[Persona, Persona]]) -> None:
    assert pairs, "personas/ should ship interviewers and candidates"
    for asking, answering in pairs:
        model = ScriptedModel()
        turns = await simulate(
            asking, answering, turns=40, interviewer_model=model, candidate_model=model
        )
        assert_coherent(turns, asking, answering, 40)


async def test_every_shipped_persona_takes_part_in_a_coherent_interview(
    personas: PersonaCatalog,
) -> None:
    asking, answering = personas.list("interviewer"), personas.list("candidate")
    count = max(len(asking), len(answering))
    await run_pairs(
        [(asking[i % len(asking)], answering[i % len(answering)]) for i in range(count)]
    )


@pytest.mark.slow
async def test_every_shipped_pair_gives_a_coherent_interview(personas: PersonaCatalog) -> None:
    await run_pairs(
        [(a, b) for a in personas.list("interviewer") for b in personas.list("candidate")]
    )


# --- the terminal commands ------------------------------------------------------------------


@pytest.fixture
def persona_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAPPORT_LLM", "scripted")
    monkeypatch.setenv("RAPPORT_SCRIPTED_TOKEN_DELAY", "0")
    for persona in (interviewer(), candidate()):
        data = persona.model_dump(mode="json")
        (tmp_path / f"{persona.id}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def test_practice_as_a_candidate_driven_through_stdin(persona_dir: Path) -> None:
    typed = (
        "I started as a chemistry teacher in Leeds and rewrote our timetable tool in Python.\n"
        "How big is the team?\n"
        "/end\n"
    )
    code, out = run(
        "practice", "--persona", "test-interviewer", "--personas-dir", str(persona_dir), input=typed
    )
    assert code == 0, out
    assert "Maya Okafor: Hi, I'm Maya and I run the routing team." in out
    assert "How did you end up in backend engineering?" in out
    assert "Tell me about a service you owned in production." in out  # moved on after a full answer
    assert "six engineers on routing" in out  # answered the question from its facts
    assert "You'll hear from us by Thursday." in out  # closed on /end
    assert "Summary" in out and "6 turns with Maya Okafor" in out
    assert "asked 1 question" in out


def test_practice_as_an_interviewer_until_the_input_runs_out(persona_dir: Path) -> None:
    typed = "Why did you leave your last job?\n"
    code, out = run(
        "practice",
        "-p",
        "test-candidate",
        "--personas-dir",
        str(persona_dir),
        "--backend",
        "scripted",
        input=typed,
    )
    assert code == 0, out
    assert "You are interviewing Sam Patel" in out
    assert "I was laid off in March" in out
    assert "Thanks so much for your time; I enjoyed this." in out


def test_practice_with_an_unknown_persona_names_the_valid_ones(persona_dir: Path) -> None:
    code, out = run("practice", "--persona", "nobody", "--personas-dir", str(persona_dir))
    assert code == 2
    assert "Unknown persona 'nobody'" in out
    assert "test-candidate, test-interviewer" in out


def run_simulate(persona_dir: Path, *options: str) -> tuple[int, str]:
    """``rapport simulate`` between the two test personas."""
    return run(
        "simulate",
        "--interviewer",
        "test-interviewer",
        "--candidate",
        "test-candidate",
        *options,
        "--personas-dir",
        str(persona_dir),
    )


def test_simulate_prints_the_transcript(persona_dir: Path) -> None:
    code, out = run_simulate(persona_dir, "--turns", "6")
    assert code == 0, out
    assert out.count("Maya Okafor (interviewer)") == 3
    assert out.count("Sam Patel (candidate)") == 2
    assert "You'll hear from us by Thursday." in out
    assert "5 turns; 0 fell back to the plan's wording." in out


def test_simulate_ignores_the_scripted_streaming_delay(
    persona_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_SCRIPTED_TOKEN_DELAY", "2")  # would take minutes if honoured
    delays: list[float] = []
    real_stream = ScriptedModel.stream

    def stream(self: ScriptedModel, request: object) -> object:
        delays.append(self.token_delay)
        return real_stream(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(ScriptedModel, "stream", stream)
    code, out = run_simulate(persona_dir, "--turns", "4", "--backend", "scripted")
    assert code == 0, out
    assert delays and set(delays) == {0.0}


def test_simulate_refuses_a_candidate_as_the_interviewer(persona_dir: Path) -> None:
    code, out = run(
        "simulate",
        "--interviewer",
        "test-candidate",
        "--candidate",
        "test-candidate",
        "--personas-dir",
        str(persona_dir),
    )
    assert code == 2
    assert "interviewer: 'test-candidate' is a candidate persona" in out


def test_every_shipped_ask_is_one_question() -> None:
    catalog = PersonaCatalog.from_dir(Path(__file__).resolve().parents[2] / "personas")
    for persona_id in catalog.ids():
        persona = catalog.get(persona_id)
        asks = [step.ask for step in persona.agenda]
        asks += [f for step in persona.agenda for f in step.follow_ups]
        for text in [*asks, *persona.questions_to_ask]:
            assert text.count("?") <= 1, f"{persona_id}: one question at a time: {text!r}"
