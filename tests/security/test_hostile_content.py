"""Persona and rubric files that attack the loader: Python-object tags, huge files, wrong
types. Each is refused with an error naming the file and what is wrong, and the app refuses
to start on it rather than serving half a catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, Settings
from app.content import MAX_CONTENT_BYTES
from app.grading.rubrics import RubricCatalog
from app.interview.errors import ContentError
from app.interview.personas import PersonaCatalog
from app.llm.scripted import ScriptedModel
from app.main import create_app

RUBRIC = "listen-actively"
PERSONA = "maya-startup-eng-manager"
MARKER = "rapport-pwned"

PYTHON_TAGS = [
    f"!!python/object/apply:os.system ['touch {MARKER}']",
    f"!!python/object/new:subprocess.Popen [['touch', '{MARKER}']]",
    "!!python/name:os.system",
    "!!python/module:os",
    f"!!python/object:builtins.dict {{'{MARKER}': 1}}",
]


def copy_folder(kind: str, tmp_path: Path) -> Path:
    folder = tmp_path / kind
    shutil.copytree(PROJECT_ROOT / kind, folder)
    return folder


def load(kind: str, folder: Path) -> None:
    if kind == "rubrics":
        RubricCatalog.from_dir(folder)
    else:
        PersonaCatalog.from_dir(folder)


def target(kind: str, folder: Path) -> Path:
    return folder / f"{RUBRIC if kind == 'rubrics' else PERSONA}.yaml"


@pytest.mark.parametrize("kind", ["rubrics", "personas"])
@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_are_refused_and_never_run(
    kind: str, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = copy_folder(kind, tmp_path)
    path = target(kind, folder)
    path.write_text(path.read_text(encoding="utf-8") + f"extensions: {tag}\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load(kind, folder)
    message = caught.value.message
    assert str(path) in message and "python" in message.lower()
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("kind", ["rubrics", "personas"])
def test_an_oversize_file_is_refused_before_it_is_parsed(kind: str, tmp_path: Path) -> None:
    folder = copy_folder(kind, tmp_path)
    path = target(kind, folder)
    # A YAML bomb would explode when parsed; refusing by size means it never is.
    bomb = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    path.write_text(bomb + "#" * (MAX_CONTENT_BYTES + 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load(kind, folder)
    assert str(path) in caught.value.message and "limit" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("anchors", "'five stars'", "anchors"),
        ("caps", "{when: 'x', max_score: 3}", "caps"),
        ("scope", "everything", "scope"),
        ("applies_to", "[interviewer, candidate]", "applies_to"),
        ("signals", "[1, 2, 3]", "signals"),
        ("criterion", "{nested: true}", "criterion"),
    ],
)
def test_wrongly_typed_rubric_fields_are_named(
    field: str, value: str, named: str, tmp_path: Path
) -> None:
    folder = copy_folder("rubrics", tmp_path)
    path = target("rubrics", folder)
    # Drop the field's own indented block too, so the replacement is the only value.
    lines: list[str] = []
    skipping = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "-")) or not line.strip()):
            continue
        skipping = False
        lines.append(line)
    path.write_text("\n".join([*lines, f"{field}: {value}"]) + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        RubricCatalog.from_dir(folder)
    message = caught.value.message
    assert str(path) in message and named in message


@pytest.mark.parametrize("kind", ["rubrics", "personas"])
@pytest.mark.parametrize("body", ["- just\n- a list\n", "", "42\n", "\xff\xfe binary"])
def test_a_file_that_is_not_a_mapping_is_refused(kind: str, body: str, tmp_path: Path) -> None:
    folder = copy_folder(kind, tmp_path)
    path = target(kind, folder)
    if body.startswith("\xff"):
        path.write_bytes(b"\xff\xfe\x00binary")
    else:
        path.write_text(body, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load(kind, folder)
    assert str(path) in caught.value.message


def test_the_app_does_not_start_on_a_hostile_rubric(settings: Settings, tmp_path: Path) -> None:
    folder = copy_folder("rubrics", tmp_path)
    path = target("rubrics", folder)
    path.write_text(path.read_text(encoding="utf-8") + f"x: {PYTHON_TAGS[0]}\n", encoding="utf-8")
    with pytest.raises(ContentError):
        create_app(settings.model_copy(update={"rubrics_dir": folder}), llm=ScriptedModel())
