"""Character Card V2/V3 import: field mapping, round trips, and hostile cards."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.content import load_file
from app.interview.cards import (
    MAX_CARD_BYTES,
    MAX_TEXT_CHARS,
    card_to_persona,
    import_card,
    persona_to_card,
    persona_yaml,
    read_card,
    slugify,
)
from app.interview.errors import ContentError
from app.interview.models import Persona
from app.interview.personas import PersonaCatalog

CARDS = Path(__file__).parent / "fixtures" / "cards"
V2 = CARDS / "v2-night-editor.json"
V3 = CARDS / "v3-warehouse-lead.json"
HOSTILE = CARDS / "hostile-traversal.json"


def card(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def write_card(folder: Path, data: Any, name: str = "card.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def minimal(**data: Any) -> dict[str, Any]:
    fields = {"name": "Ruth Calloway", "description": "Night editor.", "first_mes": "Sit."}
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {**fields, **data}}


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.fixture
def personas_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "personas"
    folder.mkdir()
    return folder


# --- mapping ----------------------------------------------------------------------------------


def test_a_v2_card_becomes_an_interviewer_with_a_full_agenda() -> None:
    persona = card_to_persona(card(V2))
    assert (persona.id, persona.side) == ("ruth-calloway", "interviewer")
    assert persona.name == "Ruth Calloway"
    assert persona.backstory.startswith("Night editor at the Harbour Gazette")
    assert persona.goal.startswith("The Gazette is moving to a members model")
    assert persona.first_message.startswith("Sit down.")
    assert persona.style.voice == "dry, exacting, kind underneath"
    assert persona.traits == ["dry", "exacting", "kind underneath"]
    phases = [step.phase for step in persona.agenda]
    assert phases[0] == "story" and phases[-1] == "close"
    assert {"topic", "vision", "questions"} <= set(phases)
    asks = [step.ask for step in persona.agenda]
    assert "Why do you want to work nights?" in asks
    assert "Tell me about a story you got wrong?" not in asks  # not a question in the card
    vision = next(step for step in persona.agenda if step.phase == "vision")
    assert vision.share.startswith("The Gazette is moving")
    assert "solve-dont-sell" in persona.rubrics


def test_lorebook_entries_become_hidden_facts_unless_disabled() -> None:
    persona = card_to_persona(card(V2))
    assert [(f.text, f.triggers) for f in persona.hidden.facts] == [
        ("The newsroom lost six reporters in March.", ["layoffs", "cuts", "staff"])
    ]


def test_every_unmapped_card_field_is_kept_under_extensions() -> None:
    original = card(V2)
    kept = card_to_persona(original).extensions["card"]
    assert kept["spec"] == "chara_card_v2" and kept["spec_version"] == "2.0"
    assert kept["x_vendor_field"] == {"exported_by": "some editor", "version": 7}
    for field in (
        "mes_example", "creator_notes", "system_prompt", "post_history_instructions",
        "alternate_greetings", "tags", "creator", "character_version", "extensions",
        "character_book",
    ):  # fmt: skip
        assert kept["data"][field] == original["data"][field], field


def test_a_v3_card_becomes_a_candidate_with_stories_and_questions() -> None:
    persona = card_to_persona(card(V3), side="candidate")
    assert (persona.id, persona.side) == ("tomasz-wojcik", "candidate")
    assert persona.stories[0].text.startswith("Shift lead at a cold-chain warehouse")
    assert any("cut walking time by a fifth" in s.text for s in persona.stories)
    assert persona.questions_to_ask == [
        "What would I own in the first three months?",
        "Who decides which warehouse goes live first?",
    ]
    assert persona.hidden.facts[0].triggers == ["why did you leave", "leave", "layoff"]
    assert "listen-actively" in persona.rubrics and persona.agenda == []
    kept = card_to_persona(card(V3), side="candidate").extensions["card"]["data"]
    for field in ("nickname", "creator_notes_multilingual", "group_only_greetings", "source",
                  "creation_date", "modification_date", "assets"):  # fmt: skip
        assert kept[field] == card(V3)["data"][field], field


def test_card_macros_are_replaced_with_names() -> None:
    persona = card_to_persona(minimal(description="{{char}} interviews {{user}} at noon."))
    assert persona.backstory == "Ruth Calloway interviews the candidate at noon."
    candidate = card_to_persona(minimal(description="{{char}} meets <USER>."), side="candidate")
    assert candidate.backstory == "Ruth Calloway meets the interviewer."


def test_a_card_without_a_first_message_uses_a_greeting() -> None:
    persona = card_to_persona(minimal(first_mes="", alternate_greetings=["", "Evening."]))
    assert persona.first_message == "Evening."
    assert card_to_persona(minimal(first_mes="")).first_message == "Hello, I'm Ruth Calloway."


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "side"), [(V2, "interviewer"), (V3, "candidate")])
def test_import_then_export_gives_back_the_same_card(path: Path, side: Any) -> None:
    original = card(path)
    persona = card_to_persona(original, side=side)
    assert persona_to_card(persona, spec=original["spec"]) == original


@pytest.mark.parametrize(("path", "side"), [(V2, "interviewer"), (V3, "candidate")])
def test_an_imported_file_loads_back_as_the_same_persona(
    path: Path, side: Any, personas_dir: Path
) -> None:
    persona, written = import_card(path, personas_dir, side=side)
    assert written == personas_dir.resolve() / f"{persona.id}.yaml"
    assert load_file(Persona, written) == persona
    again = card_to_persona(persona_to_card(persona, spec=card(path)["spec"]), side=side)
    assert again == persona


def test_every_shipped_persona_exports_to_a_card_that_imports(personas_dir: Path) -> None:
    for persona in PersonaCatalog.from_dir(PROJECT_ROOT / "personas").list():
        exported = persona_to_card(persona, spec="chara_card_v3")
        assert exported["data"]["extensions"]["rapport"]["id"] == persona.id
        back = card_to_persona(exported, side=persona.side, persona_id=persona.id)
        assert (back.name, back.backstory, back.first_message) == (
            persona.name, persona.backstory, persona.first_message,
        )  # fmt: skip


def test_persona_yaml_keeps_long_text_readable() -> None:
    text = persona_yaml(card_to_persona(card(V2)))
    assert text.startswith("id: ruth-calloway\nside: interviewer\n")
    assert "mes_example: |" in text


# --- hostile cards ----------------------------------------------------------------------------


def test_a_traversal_name_is_written_inside_the_folder(tmp_path: Path, personas_dir: Path) -> None:
    before = files_under(tmp_path)
    persona, written = import_card(HOSTILE, personas_dir)
    assert written == personas_dir.resolve() / "etc-passwd.yaml"
    assert files_under(tmp_path) - before == {personas_dir / "etc-passwd.yaml"}
    assert "\x00" not in persona.name and "\x00" not in persona.first_message
    assert persona.name == "../../etc/passwd"  # shown as text, never used as a path


def test_control_and_bidi_characters_are_stripped_from_text() -> None:
    persona = card_to_persona(minimal(name="Ruth\u202e Call\x07oway\u2066", first_mes="Hi\x1b[31m"))
    assert persona.name == "Ruth Calloway"
    assert persona.first_message == "Hi[31m"


@pytest.mark.parametrize("bad_id", ["../evil", "/etc/passwd", "a/b", "x", "UPPER", "evil\x00", ""])
def test_an_unsafe_id_is_refused(bad_id: str, tmp_path: Path, personas_dir: Path) -> None:
    before = files_under(tmp_path)
    with pytest.raises(ContentError, match=r"id: .* lowercase letters, digits and dashes"):
        import_card(V2, personas_dir, persona_id=bad_id)
    assert files_under(tmp_path) == before


def test_a_name_with_nothing_usable_asks_for_an_id(tmp_path: Path, personas_dir: Path) -> None:
    path = write_card(tmp_path, minimal(name="../../"))
    with pytest.raises(ContentError, match="pass --id"):
        import_card(path, personas_dir)
    persona, written = import_card(path, personas_dir, persona_id="dots")
    assert written.name == "dots.yaml" and persona.name == "../../"


def test_an_existing_persona_is_not_overwritten_without_force(personas_dir: Path) -> None:
    existing = personas_dir / "ruth-calloway.yaml"
    existing.write_text("keep me")
    with pytest.raises(ContentError, match="already exists; pass --force"):
        import_card(V2, personas_dir)
    assert existing.read_text() == "keep me"
    import_card(V2, personas_dir, force=True)
    assert load_file(Persona, existing).name == "Ruth Calloway"


def test_a_symlink_in_the_folder_is_never_followed(tmp_path: Path, personas_dir: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    link = personas_dir / "ruth-calloway.yaml"
    link.symlink_to(outside)
    with pytest.raises(ContentError, match="already exists"):
        import_card(V2, personas_dir)
    import_card(V2, personas_dir, force=True)
    assert outside.read_text() == "precious"
    assert not link.is_symlink()
    assert [p.name for p in personas_dir.iterdir()] == ["ruth-calloway.yaml"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[1, 2, 3]", "expected a JSON object at the top level, got a list"),
        ('"just text"', "expected a JSON object at the top level, got text"),
        ("{not json", "invalid JSON"),
        ('{"spec": "chara_card_v1", "data": {}}', "spec: expected 'chara_card_v2' or"),
        ('{"name": "Flat V1 card"}', "spec: expected 'chara_card_v2' or 'chara_card_v3', got null"),
        ('{"spec": "chara_card_v2", "data": []}', "data: expected an object of card fields"),
        ('{"spec": "chara_card_v2", "data": {}}', "data.name: field required"),
        ('{"spec": "chara_card_v2", "data": {"name": ["a"]}}',
         "data.name: expected text, got a list"),
        ('{"spec": "chara_card_v2", "data": {"name": "  "}}', "data.name: must not be empty"),
        ('{"spec": "chara_card_v3", "data": {"name": "A b", "tags": "x"}}',
         "data.tags: expected a list"),
        ('{"spec": "chara_card_v3", "data": {"name": "A b", "character_book": 3}}',
         "data.character_book: expected an object, got a number"),
    ],
)  # fmt: skip
def test_a_malformed_card_names_the_field(
    content: str, expected: str, tmp_path: Path, personas_dir: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ContentError) as caught:
        import_card(path, personas_dir)
    assert caught.value.message.startswith(f"{path}: ")
    assert expected in caught.value.message
    assert list(personas_dir.iterdir()) == []


def test_a_card_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (MAX_CARD_BYTES + 1))
    with pytest.raises(ContentError, match=f"the limit for a card is {MAX_CARD_BYTES}"):
        read_card(path)


def test_a_huge_field_is_refused_by_name(tmp_path: Path, personas_dir: Path) -> None:
    path = write_card(tmp_path, minimal(description="x" * (MAX_TEXT_CHARS + 1)))
    with pytest.raises(ContentError, match=rf"data\.description: {MAX_TEXT_CHARS + 1} characters"):
        import_card(path, personas_dir)


def test_a_card_too_big_for_a_persona_file_is_refused(tmp_path: Path, personas_dir: Path) -> None:
    entries = [{"keys": [f"k{i}"], "content": "y" * 1500, "enabled": True} for i in range(200)]
    path = write_card(tmp_path, minimal(character_book={"entries": entries}))
    with pytest.raises(ContentError, match=r"the persona file would be \d+ bytes; the limit is"):
        import_card(path, personas_dir)
    assert list(personas_dir.iterdir()) == []


def test_deeply_nested_extensions_are_refused(tmp_path: Path, personas_dir: Path) -> None:
    nested: Any = "bottom"
    for _ in range(200):
        nested = {"d": nested}
    path = write_card(tmp_path, minimal(extensions=nested))
    with pytest.raises(ContentError, match="nested deeper than"):
        import_card(path, personas_dir)


def test_a_missing_personas_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="personas folder not found"):
        import_card(V2, tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_binary_input_is_refused(tmp_path: Path, personas_dir: Path) -> None:
    path = tmp_path / "card.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ContentError, match="not UTF-8 text"):
        import_card(path, personas_dir)


def test_slugs_are_safe_file_stems() -> None:
    assert slugify("Ruth Calloway") == "ruth-calloway"
    assert slugify("Tomasz Wójcik") == "tomasz-wojcik"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("C:\\Windows\\system32") == "c-windows-system32"
    assert slugify("李雷") == ""
    assert len(slugify("a" * 500)) == 64
    assert os.sep not in slugify("/".join(["x"] * 50))
