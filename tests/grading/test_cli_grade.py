"""`rapport grade`: JSON and Markdown transcripts, formats, rubric choice and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.grading.rubrics import RubricCatalog
from app.grading.transcripts import grade_file, load_transcript, parse_json, parse_markdown
from app.interview.errors import InvalidInput
from app.llm.base import ChatRequest
from app.llm.scripted import ScriptedModel

TURNS = [
    {"speaker": "interviewer", "text": "How did you end up in logistics software?"},
    {"speaker": "candidate", "text": "I fixed routing spreadsheets at a courier firm, and the "
                                     "rollback in 2019 scared me more than the outage itself."},
    {"speaker": "interviewer", "text": "So the rollback scared you more than the outage. What "
                                       "changed after it?"},
    {"speaker": "candidate", "text": "We added canary releases and a kill switch."},
    {"speaker": "interviewer", "text": "We want same-day routing in every city by 2027. What's "
                                       "your take on that?"},
]
MARKDOWN = """# Practice with Maya
human_side: candidate

**Interviewer:** Tell me about a project you loved.

**Candidate:** I rebuilt the billing pipeline at Acme in 2022,
cutting failed invoices by 40%.

It took two tries.
Interviewer (Maya): We are moving the routing service to Rust this year.
- Candidate: You said Rust - how will the routing team handle the migration while on call?
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "json": tmp_path / "manager.json",
        "list": tmp_path / "bare.json",
        "md": tmp_path / "candidate.md",
    }
    paths["json"].write_text(json.dumps({"human_side": "interviewer", "turns": TURNS}))
    paths["list"].write_text(json.dumps(TURNS))
    paths["md"].write_text(MARKDOWN)
    return paths


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RAPPORT_LLM", "scripted")
    return CliRunner()


def test_json_object_and_bare_list() -> None:
    full = parse_json(json.dumps({"human_side": "Interviewer", "turns": TURNS,
                                  "rubrics": ["listen-actively"],
                                  "hidden_facts": [{"text": "was laid off", "triggers": ["why"]}]}))
    assert full.human_side == "interviewer" and len(full.turns) == 5
    assert full.turns[1].speaker == "candidate" and full.rubric_ids == ["listen-actively"]
    assert full.hidden_facts[0].text == "was laid off"
    bare = parse_json(json.dumps(TURNS))
    assert bare.human_side is None and [t.text for t in bare.turns] == [t["text"] for t in TURNS]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON at line 1, column 2"),
        ('{"human_side": "interviewer"}', "turns: field required"),
        ('{"turns": "hello"}', "turns: expected a list of turns, got str"),
        ('[{"speaker": "bob", "text": "hi"}]', "turns[0].speaker: expected 'interviewer' or"),
        ('[{"speaker": "candidate", "text": "  "}]', "turns[0].text: expected non-empty text"),
        ('["hello"]', "turns[0]: expected an object {speaker, text}, got str"),
        ('{"human_side": "boss", "turns": []}', "human_side: expected 'interviewer' or"),
        ("[]", "no turns found"),
        ('{"turns": [], "hidden_facts": [{"text": "x"}]}', "hidden_facts[0]"),
    ],
)
def test_json_errors_name_the_field_and_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=r"t\.json") as caught:
        parse_json(text, "t.json")
    assert message in caught.value.message


def test_markdown_turns_continuations_and_side() -> None:
    transcript = parse_markdown(MARKDOWN, "t.md")
    assert transcript.human_side == "candidate"
    assert [t.speaker for t in transcript.turns] == [
        "interviewer", "candidate", "interviewer", "candidate"
    ]
    assert transcript.turns[1].text == (
        "I rebuilt the billing pipeline at Acme in 2022, cutting failed invoices by 40%.\n\n"
        "It took two tries."
    )
    assert transcript.turns[2].text == "We are moving the routing service to Rust this year."
    assert transcript.turns[3].text.startswith("You said Rust")


def test_markdown_without_turns_or_with_an_empty_turn_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no turns found; write each turn as"):
        parse_markdown("# Notes\n\nJust some text.", "t.md")
    with pytest.raises(InvalidInput, match="line 2: the candidate's turn has no text"):
        parse_markdown("Interviewer: Hi there.\nCandidate:\n", "t.md")


def test_files_are_read_by_suffix(files: dict[str, Path], tmp_path: Path) -> None:
    assert load_transcript(files["md"]).human_side == "candidate"
    assert load_transcript(files["json"]).human_side == "interviewer"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_transcript(latin)
    with pytest.raises(InvalidInput, match="cannot read file"):
        load_transcript(tmp_path / "missing.json")


def test_table_over_several_files(runner: CliRunner, files: dict[str, Path]) -> None:
    result = runner.invoke(cli, ["grade", str(files["json"]), str(files["md"])])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert "manager.json: interviewer" in shown and "candidate.md: candidate" in shown
    assert "Listen actively" in shown and "Specific enthusiasm" in shown and "R:Q" in shown


def test_json_for_one_file_has_turn_grades_session_grades_signals_and_report(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    result = runner.invoke(cli, ["grade", str(files["json"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["human_side"] == "interviewer"
    assert [t["index"] for t in data["turns"]] == [0, 2, 4]
    grade = data["turns"][1]["grades"][0]
    assert set(grade) >= {"rubric_id", "score", "evidence", "rationale", "tip", "method"}
    assert {g["rubric_id"] for g in data["session_grades"]} == {"share-your-vision"}
    assert "talk_share" in data["signals"] and "reflection_to_question_ratio" in data["signals"]
    assert data["report"]["human_side"] == "interviewer" and data["report"]["rubrics"]


def test_json_for_several_files_is_a_list_and_side_can_be_given(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    result = runner.invoke(
        cli, ["grade", str(files["list"]), str(files["json"]), "--format", "json",
              "--side", "interviewer", "--rubric", "listen-actively"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [Path(d["file"]).name for d in data] == ["bare.json", "manager.json"]
    assert all(g["rubric_id"] == "listen-actively" for d in data for t in d["turns"]
               for g in t["grades"])
    assert all(d["session_grades"] == [] for d in data)


def test_markdown_report(runner: CliRunner, files: dict[str, Path]) -> None:
    result = runner.invoke(cli, ["grade", str(files["md"]), "--format", "md"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Interview report\n")
    assert "## Strengths" in result.stdout and "## Best moment" in result.stdout


def test_a_file_without_a_side_fails_clearly_but_others_still_grade(
    runner: CliRunner, files: dict[str, Path]
) -> None:
    result = runner.invoke(cli, ["grade", str(files["list"]), str(files["json"])])
    assert result.exit_code == 1
    assert "bare.json: the file does not say which side the human took" in result.stderr
    assert "--side interviewer or --side candidate" in result.stderr
    assert "manager.json: interviewer" in " ".join(result.stdout.split())


def test_unknown_rubric_lists_the_valid_ids(runner: CliRunner, files: dict[str, Path]) -> None:
    result = runner.invoke(cli, ["grade", str(files["json"]), "--rubric", "nope"])
    assert result.exit_code == 2
    assert "Unknown rubric 'nope'" in result.stderr and "listen-actively" in result.stderr


def test_rubrics_of_the_wrong_side_are_refused(runner: CliRunner, files: dict[str, Path]) -> None:
    result = runner.invoke(cli, ["grade", str(files["json"]), "--rubric", "personal-touch"])
    assert result.exit_code == 1
    assert "none of personal-touch grade the interviewer" in result.stderr


class FirstWordsJudge(ScriptedModel):
    """Quotes the first words of the graded turn and gives a 4."""

    def __init__(self) -> None:
        super().__init__(model="file-judge", can_judge=True)

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        self.requests.append(request)
        user = request.messages[1]["content"]
        rows = [json.loads(line) for line in
                user.split("<transcript>")[1].split("</transcript>")[0].strip().splitlines()]
        target = rows[-1]["text"]
        return {"evidence": [" ".join(target.split()[:4])], "rationale": "Fine.", "score": 4}


async def test_grade_file_uses_the_judge_when_there_is_one(files: dict[str, Path]) -> None:
    catalog = RubricCatalog.from_dir(Settings().rubrics_dir)
    judge = FirstWordsJudge()
    data, report = await grade_file(files["json"], catalog=catalog,
                                    rubric_ids=["listen-actively"], judge=judge)
    [graded] = [g for t in data["turns"] for g in t["grades"] if g["score"] is not None][:1]
    assert graded["method"] == "llm+signals" and graded["model"] == "file-judge"
    assert report.rubrics[0].method in {"llm+signals", "mixed"}
    assert judge.requests
