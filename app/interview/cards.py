"""Import Character Card V2/V3 JSON as persona YAML, and export personas back to cards."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.content import MAX_CONTENT_BYTES, SAFE_LOADER, format_validation_error
from app.interview.errors import ContentError
from app.interview.models import AgendaStep, HiddenFact, Persona, Side, Story

MAX_CARD_BYTES = 1024 * 1024
MAX_TEXT_CHARS = 20_000
MAX_DEPTH = 32
CARD_SPECS = ("chara_card_v2", "chara_card_v3")

# The rubrics that grade the human sitting opposite a persona of each side.
INTERVIEWER_PERSONA_RUBRICS = (
    "show-your-true-self",
    "ask-insightful-questions",
    "specific-enthusiasm",
    "personal-touch",
    "solve-dont-sell",
)
CANDIDATE_PERSONA_RUBRICS = (
    "start-with-their-story",
    "listen-actively",
    "share-your-vision",
    "passions-not-positions",
    "talk-shop-not-too-shop",
    "conversation-not-interrogation",
)
# Card fields that become persona fields; everything else is kept under extensions.card.
_MAPPED = ("name", "description", "personality", "scenario", "first_mes")
_TEXT_FIELDS = (*_MAPPED, "mes_example", "creator_notes", "system_prompt")
# Control characters, and the bidi overrides that can make a name display as something else.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CHAR_LINE = re.compile(r"^[ \t]*(?:\{\{char\}\}|<BOT>)[ \t]*:(.+)$", re.I | re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

# Words that tell which interview topics an anecdote from a card can answer.
_TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "conflict": ("disagree", "argument", "conflict", "clash", "pushed back"),
    "failure": ("mistake", "failed", "wrong", "broke", "missed"),
    "leadership": ("led", "lead", "team", "mentor", "managed"),
    "learning": ("learned", "learnt", "taught", "studied", "course"),
    "customer": ("customer", "client", "patient", "user", "student"),
    "pressure": ("deadline", "pressure", "rush", "night", "urgent"),
    "motivation": ("love", "care", "why", "because", "passion"),
}


def slugify(text: str) -> str:
    """A persona id (and file stem) from any text: ascii letters, digits and dashes only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:64].strip("-")


def read_card(path: Path, *, max_bytes: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """Read a card file: JSON, an object at the top level, within a size limit."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ContentError(f"{path}: cannot read file ({exc.strerror})") from exc
    if size > max_bytes:
        raise ContentError(f"{path}: file is {size} bytes; the limit for a card is {max_bytes}")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 text (a card must be a JSON file)") from exc
    except RecursionError as exc:
        raise ContentError(f"{path}: JSON nested too deeply") from exc
    except ValueError as exc:
        raise ContentError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected a JSON object at the top level, got {_kind(raw)}")
    return raw


def card_to_persona(
    card: Any, *, side: Side = "interviewer", persona_id: str | None = None, source: str = "card"
) -> Persona:
    """Map a V2/V3 card to a valid persona; unmapped card fields go to ``extensions.card``."""
    data = _card_data(card, source)
    name = _clean(data["name"])
    if not name:
        raise ContentError(f"{source}: data.name: must not be empty (the character's name)")
    ident = persona_id if persona_id is not None else slugify(name)
    if not _ID.match(ident):
        raise ContentError(
            f"{source}: id: '{_clean(ident)[:80]}' is not usable as a persona id; expected 2-64 "
            "lowercase letters, digits and dashes (pass --id to choose one)"
        )
    other = "the candidate" if side == "interviewer" else "the interviewer"

    def text(field: str) -> str:
        return _macros(_clean(str(data.get(field) or "")), name, other)

    personality, scenario = text("personality"), text("scenario")
    greetings = [_macros(_clean(g), name, other) for g in data.get("alternate_greetings") or []]
    first = text("first_mes") or next((g for g in greetings if g), "") or f"Hello, I'm {name}."
    lines = [_macros(line, name, other) for line in _example_lines(data.get("mes_example"))]
    role = "Interviewer" if side == "interviewer" else "Candidate"
    fields: dict[str, Any] = {
        "id": ident,
        "side": side,
        "name": name,
        "role": role,
        "company": "Imported character",
        "goal": scenario,
        "backstory": text("description"),
        "traits": _traits(personality),
        "temperament": _first_sentence(personality)[:160],
        "style": {"voice": personality},
        "hidden": {"facts": _book_facts(data.get("character_book"), name, other)},
        "first_message": first,
        "extensions": {"card": _unmapped(card, data)},
    }
    if side == "interviewer":
        fields["agenda"] = _agenda(lines, scenario)
        fields["rubrics"] = list(INTERVIEWER_PERSONA_RUBRICS)
    else:
        fields["stories"] = _stories(text("description"), lines, source)
        fields["questions_to_ask"] = _questions(lines)[:6]
        fields["rubrics"] = list(CANDIDATE_PERSONA_RUBRICS)
    try:
        return Persona.model_validate(fields)
    except ValidationError as exc:
        raise ContentError(format_validation_error(source, exc, Persona)) from exc


def persona_to_card(persona: Persona, *, spec: str = "chara_card_v2") -> dict[str, Any]:
    """The persona as a card, restoring fields kept from an import under ``extensions.card``."""
    if spec not in CARD_SPECS:
        raise ContentError(f"spec: expected one of {', '.join(CARD_SPECS)}, got {spec!r}")
    kept = dict(persona.extensions.get("card") or {})
    data = dict(kept.pop("data", None) or {})
    data.update(
        name=persona.name,
        description=persona.backstory,
        personality=persona.style.voice,
        scenario=persona.goal,
        first_mes=persona.first_message,
    )
    for key, default in (("mes_example", ""), ("creator_notes", ""), ("tags", [])):
        data.setdefault(key, default)
    if not kept:
        # A persona written in Rapport: say who it is so a later import can be told apart.
        rapport = {"id": persona.id, "side": persona.side, "role": persona.role}
        data["extensions"] = {"rapport": rapport}
    kept.update(spec=spec, spec_version="3.0" if spec == "chara_card_v3" else "2.0", data=data)
    return kept


def persona_yaml(persona: Persona) -> str:
    """YAML text for a persona file; long texts use block style so people can edit them."""
    data = persona.model_dump(mode="json", exclude_defaults=True)
    try:
        return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    except RecursionError as exc:
        raise ContentError("extensions: nested too deeply to write as YAML") from exc


def import_card(
    card_path: Path,
    personas_dir: Path,
    *,
    side: Side = "interviewer",
    persona_id: str | None = None,
    force: bool = False,
) -> tuple[Persona, Path]:
    """Import a card file into ``personas_dir`` as ``<id>.yaml``; never writes anywhere else."""
    persona = card_to_persona(
        read_card(card_path), side=side, persona_id=persona_id, source=str(card_path)
    )
    text = persona_yaml(persona)
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_CONTENT_BYTES:
        raise ContentError(
            f"{card_path}: the persona file would be {len(encoded)} bytes; the limit is "
            f"{MAX_CONTENT_BYTES} (trim the card's longest fields, often character_book)"
        )
    if Persona.model_validate(yaml.load(text, Loader=SAFE_LOADER)) != persona:
        raise ContentError(f"{card_path}: the card does not survive conversion to YAML intact")
    if not personas_dir.is_dir():
        raise ContentError(f"{personas_dir}: personas folder not found")
    folder = personas_dir.resolve()
    target = folder / f"{persona.id}.yaml"
    # The id is a strict slug, so this only fails if the pattern is ever loosened.
    if target.parent != folder:
        raise ContentError(f"id: '{persona.id}' would write outside {folder}")
    _write(target, encoded, force=force)
    return persona, target


def _write(target: Path, content: bytes, *, force: bool) -> None:
    if not force:
        try:
            # O_EXCL refuses existing files and symlinks alike, with no check-then-write race.
            with target.open("xb") as handle:
                handle.write(content)
        except FileExistsError:
            raise ContentError(
                f"{target}: a persona with this id already exists; pass --force to replace it "
                "or --id to choose another id"
            ) from None
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        # Replacing renames over the entry itself, so a symlink at target is never followed.
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _card_data(card: Any, source: str) -> dict[str, Any]:
    if not isinstance(card, dict):
        raise ContentError(f"{source}: expected a JSON object at the top level, got {_kind(card)}")
    spec = card.get("spec")
    if spec not in CARD_SPECS:
        raise ContentError(
            f"{source}: spec: expected 'chara_card_v2' or 'chara_card_v3', got {_show(spec)}"
        )
    data = card.get("data")
    if not isinstance(data, dict):
        raise ContentError(f"{source}: data: expected an object of card fields, got {_kind(data)}")
    if "name" not in data:
        raise ContentError(f"{source}: data.name: field required (the character's name)")
    for field in _TEXT_FIELDS:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise ContentError(f"{source}: data.{field}: expected text, got {_kind(value)}")
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise ContentError(
                f"{source}: data.{field}: {len(value)} characters; the limit is {MAX_TEXT_CHARS}"
            )
    for field in ("alternate_greetings", "tags"):
        value = data.get(field)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            raise ContentError(f"{source}: data.{field}: expected a list of text")
    book = data.get("character_book")
    if book is not None and not isinstance(book, dict):
        raise ContentError(f"{source}: data.character_book: expected an object, got {_kind(book)}")
    if _depth(card) > MAX_DEPTH:
        raise ContentError(f"{source}: card is nested deeper than {MAX_DEPTH} levels")
    return data


def _unmapped(card: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in card.items() if key != "data"}
    kept["data"] = {key: value for key, value in data.items() if key not in _MAPPED}
    return kept


def _book_facts(book: Any, name: str, other: str) -> list[HiddenFact]:
    """Lorebook entries are keyword-triggered facts: exactly what hidden facts are."""
    if not isinstance(book, dict) or not isinstance(book.get("entries"), list):
        return []
    facts = []
    for entry in book["entries"]:
        if not isinstance(entry, dict) or entry.get("enabled") is False:
            continue
        content = _macros(_clean(str(entry.get("content") or "")), name, other)
        keys = entry.get("keys")
        keys = keys if isinstance(keys, list) else []
        triggers = [_clean(str(k)).lower() for k in keys if _clean(str(k))][:12]
        if len(content) >= 3 and triggers:
            facts.append(HiddenFact(text=content, triggers=triggers))
    return facts


def _agenda(lines: list[str], scenario: str) -> list[AgendaStep]:
    asks = _questions(lines)[:2] or ["Tell me about a time something went wrong on your watch."]
    digging = ["What did you do yourself, step by step?", "What would you do differently now?"]
    share = _first_sentence(scenario) or "We are changing how this work gets done."
    return [
        AgendaStep(
            phase="story",
            ask="Tell me how you got here: what drew you to this kind of work?",
            follow_ups=["What made you choose that over the alternatives?"],
            keywords=["because", "started", "decided", "first"],
        ),
        *(
            AgendaStep(phase="topic", topic=_guess_topics(ask)[0], ask=ask, follow_ups=digging)
            for ask in asks
        ),
        AgendaStep(
            phase="vision",
            share=share,
            ask="Where would you take that, if it were yours?",
            follow_ups=["What would worry you about it?"],
        ),
        AgendaStep(phase="questions", ask="What would you like to ask me?"),
        AgendaStep(phase="close", ask="That's everything from my side. Thank you for your time."),
    ]


def _stories(description: str, lines: list[str], source: str) -> list[Story]:
    texts = [line for line in lines if len(line) >= 40 and not line.endswith("?")]
    if description:
        texts.insert(0, description[:1500])
    stories = [
        Story(title=_first_sentence(t)[:60], topics=_guess_topics(t), text=t) for t in texts[:12]
    ]
    if not stories:
        raise ContentError(
            f"{source}: data.description: a candidate needs a description or example "
            "messages ({{char}}: lines in mes_example) to tell stories from"
        )
    return stories


def _questions(lines: list[str]) -> list[str]:
    return [s for line in lines for s in _SENTENCE.split(line) if s.endswith("?")]


def _guess_topics(text: str) -> list[str]:
    lowered = text.lower()
    found = [topic for topic, words in _TOPIC_WORDS.items() if any(w in lowered for w in words)]
    return found or ["career-story"]


def _example_lines(mes_example: str | None) -> list[str]:
    """The character's own lines from the example dialogue (``{{char}}: ...``)."""
    found = _CHAR_LINE.findall(_clean(mes_example or ""))
    return [line.strip() for line in found if line.strip()]


def _traits(personality: str) -> list[str]:
    parts = [p.strip(" .") for p in re.split(r"[,;\n]", personality)]
    return [p.lower() for p in parts if p and len(p.split()) <= 3][:8]


def _first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0] if text.strip() else ""


def _macros(text: str, name: str, other: str) -> str:
    text = re.sub(r"\{\{char\}\}|<BOT>", name, text, flags=re.IGNORECASE)
    return re.sub(r"\{\{user\}\}|<USER>", other, text, flags=re.IGNORECASE)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _show(value: Any) -> str:
    return repr(value)[:60] if isinstance(value, str) else _kind(value)


# libyaml's emitter when present: a large card then converts in milliseconds, not seconds.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
