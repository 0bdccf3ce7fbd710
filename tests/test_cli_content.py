"""``rapport check`` and ``rapport personas list|import`` through the real Typer app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import app.cli.content  # noqa: F401  (registers the commands on cli)
from app.cli.base import cli
from app.cli.content import cross_check
from app.config import PROJECT_ROOT
from app.content import load_dir
from app.grading.models import Rubric
from app.interview.personas import PersonaCatalog

PERSONAS = PROJECT_ROOT / "personas"
FIXTURES = Path(__file__).parent / "interview" / "fixtures"
WIDE = {"COLUMNS": "240", "NO_COLOR": "1"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def catalog() -> PersonaCatalog:
    return PersonaCatalog.from_dir(PERSONAS)


def copy_personas(tmp_path: Path, *ids: str) -> Path:
    folder = tmp_path / "personas"
    folder.mkdir()
    for ident in ids:
        shutil.copy(PERSONAS / f"{ident}.yaml", folder)
    return folder


def test_check_passes_on_the_shipped_personas(runner: CliRunner, tmp_path: Path) -> None:
    empty_rubrics = tmp_path / "rubrics"
    empty_rubrics.mkdir()
    result = runner.invoke(
        cli, ["check", "--personas-dir", str(PERSONAS), "--rubrics-dir", str(empty_rubrics)],
        env=WIDE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "All content is valid." in result.output
    assert "no rubric files yet" in result.output


def test_check_passes_on_all_shipped_content(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "All content is valid." in result.output


def test_check_fails_on_a_broken_folder_and_names_each_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_personas(tmp_path, "maya-startup-eng-manager")
    for path in (FIXTURES / "broken").glob("*.yaml"):
        shutil.copy(path, folder)
    result = runner.invoke(
        cli, ["check", "--personas-dir", str(folder), "--rubrics-dir", str(FIXTURES / "rubrics")],
        env=WIDE,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "agenda[2].ask: field required" in result.output
    assert "wrong-side.yaml: side:" in result.output
    for path in (FIXTURES / "broken").glob("*.yaml"):
        assert path.name in result.output
    assert "problem(s) found" in result.output


def test_check_fails_on_a_missing_or_empty_folder(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["check", "--personas-dir", str(tmp_path / "nope")], env=WIDE)
    assert missing.exit_code == 1 and "folder not found" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(cli, ["check", "--personas-dir", str(tmp_path / "empty")], env=WIDE)
    assert empty.exit_code == 1 and "no persona files" in empty.output


def test_check_fails_when_a_persona_names_an_unknown_rubric(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_personas(tmp_path, "maya-startup-eng-manager")
    result = runner.invoke(
        cli, ["check", "--personas-dir", str(folder), "--rubrics-dir", str(FIXTURES / "rubrics")],
        env=WIDE,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "unknown rubric 'solve-dont-sell'" in result.output
    assert "valid ids: listen-actively, show-your-true-self" in result.output


def test_cross_check_catches_a_rubric_for_the_wrong_side(catalog: PersonaCatalog) -> None:
    rubrics, errors = load_dir(Rubric, FIXTURES / "rubrics")
    assert errors == []
    samuel = catalog.get("samuel-career-changer-nervous")
    wrong = samuel.model_copy(update={"rubrics": ["show-your-true-self", "listen-actively"]})
    assert cross_check({wrong.id: wrong}, rubrics) == [
        "samuel-career-changer-nervous.yaml: rubrics[0]: 'show-your-true-self' grades the "
        "candidate, but the human opposite this candidate persona is the interviewer"
    ]


def test_personas_list_shows_every_persona(runner: CliRunner, catalog: PersonaCatalog) -> None:
    result = runner.invoke(cli, ["personas", "list", "--personas-dir", str(PERSONAS)], env=WIDE)
    assert result.exit_code == 0, result.output
    for persona in catalog.list():
        assert persona.id in result.output and persona.name in result.output


def test_personas_list_filters_by_side(runner: CliRunner, catalog: PersonaCatalog) -> None:
    result = runner.invoke(
        cli, ["personas", "list", "--side", "candidate", "--personas-dir", str(PERSONAS)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    for persona in catalog.list():
        assert (persona.id in result.output) == (persona.side == "candidate")


def test_personas_list_rejects_an_unknown_side(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["personas", "list", "--side", "recruiter"], env=WIDE)
    assert result.exit_code == 2
    assert "interviewer" in result.output and "candidate" in result.output


def test_personas_list_reads_the_folder_from_settings(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_personas(tmp_path, "grace-new-grad-nurse")
    (folder / "broken.yaml").write_text("id: [")
    monkeypatch.setenv("RAPPORT_PERSONAS_DIR", str(folder))
    result = runner.invoke(cli, ["personas", "list"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "grace-new-grad-nurse" in result.output
    assert "maya-startup-eng-manager" not in result.output
    assert "1 persona file(s) could not be loaded" in result.output


def test_personas_import_writes_a_persona_that_check_accepts(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_personas(tmp_path)
    card = FIXTURES / "cards" / "v3-warehouse-lead.json"
    args = ["personas", "import", str(card), "--side", "candidate", "--personas-dir", str(folder)]
    first = runner.invoke(cli, args, env=WIDE)
    assert first.exit_code == 0, first.output
    assert "Tomasz Wójcik" in first.output and "tomasz-wojcik.yaml" in first.output
    listed = runner.invoke(cli, ["personas", "list", "--personas-dir", str(folder)], env=WIDE)
    assert "tomasz-wojcik" in listed.output and "candidate" in listed.output
    empty_rubrics = tmp_path / "rubrics"
    empty_rubrics.mkdir()
    checked = runner.invoke(
        cli, ["check", "--personas-dir", str(folder), "--rubrics-dir", str(empty_rubrics)], env=WIDE
    )
    assert checked.exit_code == 0, checked.output

    again = runner.invoke(cli, args, env=WIDE)
    assert again.exit_code == 1
    assert "already exists; pass --force" in again.output
    forced = runner.invoke(cli, [*args, "--force"], env=WIDE)
    assert forced.exit_code == 0, forced.output
    renamed = runner.invoke(cli, [*args, "--id", "tom-night-shift"], env=WIDE)
    assert renamed.exit_code == 0 and (folder / "tom-night-shift.yaml").is_file()


def test_personas_import_of_a_hostile_card_stays_in_the_folder(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_personas(tmp_path)
    card = FIXTURES / "cards" / "hostile-traversal.json"
    result = runner.invoke(
        cli, ["personas", "import", str(card), "--personas-dir", str(folder)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in folder.iterdir()] == ["etc-passwd.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["personas"]
    escape = runner.invoke(
        cli,
        ["personas", "import", str(card), "--id", "../../escape", "--personas-dir", str(folder)],
        env=WIDE,
    )
    assert escape.exit_code == 1
    assert "id: '../../escape' is not usable as a persona id" in escape.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["personas"]


def test_personas_import_reports_a_broken_card(runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_personas(tmp_path)
    card = tmp_path / "list.json"
    card.write_text("[1, 2]")
    result = runner.invoke(
        cli, ["personas", "import", str(card), "--personas-dir", str(folder)], env=WIDE
    )
    assert result.exit_code == 1
    assert "expected a JSON object at the top level, got a list" in result.output
    assert "Traceback" not in result.output
