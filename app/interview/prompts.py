"""How the persona's words are phrased: prompts for a real model, tendency for scripted replies."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.interview.checks import STOPWORDS, fit_words, pick, sentences, word_count
from app.interview.models import Persona, Turn
from app.llm.base import Message

if TYPE_CHECKING:
    from app.interview.plan import Move

TEMPLATES = Path(__file__).resolve().parent.parent / "prompts"

TENDENCIES = {
    "strong": "tight, structured answers: the situation, what you did, the result, with numbers",
    "oversells": "you talk up your own part, say 'I' where the team did it, and use buzzwords",
    "rambles": "you drift into tangents before finding your way back; the substance is brilliant",
    "nervous": "you hedge, apologise and restart sentences, though your stories are strong",
    "balanced": "clear, honest answers of sensible length",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Prompts are plain text for a model, not HTML: escaping would corrupt quotes and ampersands.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=False,
        # Templates ship with the package; checking their mtime on every turn costs time.
        auto_reload=False,
    )


def system_prompt(persona: Persona) -> str:
    """Rules and the persona sheet: nothing that changes during an interview."""
    template = environment().get_template("persona_system.j2")
    return template.render(p=persona, tendency=TENDENCIES[persona.tendency]).strip()


_DOCUMENT_TAG = re.compile(r"</?\s*(job_description|resume)\s*>", re.IGNORECASE)


def context_prompt(job_description: str, resume: str) -> str | None:
    """The job description and résumé, fenced as data; None when there are none."""
    jd = _DOCUMENT_TAG.sub("", job_description).strip()
    cv = _DOCUMENT_TAG.sub("", resume).strip()
    if not jd and not cv:
        return None
    template = environment().get_template("persona_context.j2")
    return template.render(job_description=jd, resume=cv).strip()


def directive_prompt(persona: Persona, move: Move, *, compact: bool = False) -> str:
    """The step to phrase: the plan's reason and wording, or for a small model the wording."""
    template = environment().get_template("persona_directive.j2")
    return template.render(name=persona.name, move=move, compact=compact).strip()


# Small embedded models have a short context (2,048 tokens for the default one): their prompt
# keeps only who the persona is and the step to phrase, and a short window of short turns.
COMPACT_WINDOW = 4
COMPACT_TURN_WORDS = 60
COMPACT_DOCUMENT_WORDS = 80


def compact_system_prompt(persona: Persona) -> str:
    template = environment().get_template("persona_system_compact.j2")
    voice = fit_words(persona.style.voice, 40, cut=False)
    return template.render(p=persona, voice=voice).strip()


def prefix_messages(
    persona: Persona, job_description: str, resume: str, *, compact: bool = False
) -> list[Message]:
    """The system prompt, then the documents: identical on every turn of an interview, so
    provider prefix caches hit."""
    system = compact_system_prompt(persona) if compact else system_prompt(persona)
    messages: list[Message] = [{"role": "system", "content": system}]
    if compact:
        job_description = fit_words(job_description, COMPACT_DOCUMENT_WORDS)
        resume = fit_words(resume, COMPACT_DOCUMENT_WORDS)
    context = context_prompt(job_description, resume)
    if context:
        messages.append({"role": "user", "content": context})
    return messages


def build_messages(
    prefix: list[Message],
    persona: Persona,
    turns: list[Turn],
    move: Move,
    *,
    window: int,
    compact: bool = False,
) -> list[Message]:
    """The prefix, then the last ``window`` turns, then the step directive, which changes
    every turn and so comes last."""
    messages = list(prefix)
    if compact:
        window = min(window, COMPACT_WINDOW)
    for turn in turns[-window:] if window > 0 else []:
        text = fit_words(turn.text, COMPACT_TURN_WORDS) if compact else turn.text
        if turn.speaker == persona.side:
            messages.append({"role": "assistant", "content": text})
        else:
            messages.append({"role": "user", "content": text})
    messages.append({"role": "system", "content": directive_prompt(persona, move, compact=compact)})
    return messages


# Scripted phrasing: the candidate's tendency and voice, for replies without a model.

_BOASTS = (
    "Honestly, I was the driving force behind all of it.",
    "I single-handedly turned that around; that's the end-to-end ownership I bring.",
    "Frankly, it's a textbook example of the 10x impact I deliver.",
    "That's the kind of best-in-class, data-driven leadership I bring to every team.",
    "Between us, the project wouldn't have shipped without me.",
)
_NERVOUS_OPENERS = (
    "Um, sorry, let me start again.",
    "Sorry, I'm a bit nervous.",
    "",
    "Okay. Um. Right.",
    "",
)
_NERVOUS_CLOSERS = ("I hope that makes sense.", "", "Sorry, I'm not sure that answers it.", "", "")
# A story that already starts with a hedge needs no nervous opener on top of it.
_HEDGED = re.compile(r"^\W*(um|uh|sorry|so,? um|okay|oh)\b", re.IGNORECASE)
# The shape of a story worth structuring: an action by the speaker, then an outcome.
_ACTION = re.compile(
    r"^\W*(?:so |then |and )?(?:i|we) (?!think|suspect|believe|feel|guess|hope|mean|know|"
    r"was|were|am|had|have|'m|'d)\w+",
    re.IGNORECASE,
)
_OUTCOME = re.compile(
    r"\b(now|since then|after that|afterwards|in the end|dropped|fell|rose|grew|saved|halved"
    r"|doubled|went from|per ?cent|percent)\b|%",
    re.IGNORECASE,
)


def _structured(core: str) -> str:
    """Situation, action, result, when the story has that shape; otherwise as written.

    An opinion or a journey has no result to point at, and labelling it reads oddly.
    """
    parts = sentences(core)
    action = next((i for i in range(1, len(parts)) if _ACTION.search(parts[i])), None)
    if action is None:
        return core
    result = next(
        (i for i in range(len(parts) - 1, action, -1) if _OUTCOME.search(parts[i])), None
    )
    if result is None:
        return core
    return (
        f"The situation: {' '.join(parts[:action])} What I did: "
        f"{' '.join(parts[action:result])} The result: {' '.join(parts[result:])}"
    )


# Claiming the team's work, only where the swap stays grammatical: "we shipped" -> "I shipped".
# Objects and possessives ("four of us", "our VP") are never touched.
_CLAIMED_VERBS = (
    "shipped|built|launched|designed|delivered|fixed|migrated|rebuilt|rewrote|wrote|created"
    "|cut|reduced|grew|won|led|ran|drove|rolled out|automated|redesigned|added|moved|scaled"
)
_CLAIM = re.compile(rf"\b(We|we) (?=(?:{_CLAIMED_VERBS})\b)")


def _as_owner(text: str) -> str:
    """Claim the team's result: 'we shipped it' becomes 'I shipped it'."""
    return _CLAIM.sub(lambda match: "I ", text)


_BE_HAVE = {
    "is": "am",
    "isn't": "am not",
    "has": "have",
    "hasn't": "haven't",
    "does": "do",
    "doesn't": "don't",
    "was": "was",
    "wasn't": "wasn't",
}
_CONTRACTIONS = {
    "he's": "I'm",
    "she's": "I'm",
    "he'd": "I'd",
    "she'd": "I'd",
    "he'll": "I'll",
    "she'll": "I'll",
}
_ADVERBS = {"also", "never", "still", "currently", "already", "often", "always", "now", "only"}


def _agree(verb: str) -> str:
    """Third-person verb to first person: 'maintains' -> 'maintain', 'has' -> 'have'."""
    low = verb.lower()
    if low in _BE_HAVE:
        return _BE_HAVE[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes", "oes")):
        return verb[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3:
        return verb[:-1]
    return verb


def first_person(text: str, name: str = "") -> str:
    """Turn a fact written about the persona ('He has never…') into what they would say.

    A fact already in the first person is left alone.
    """
    if re.search(r"\b(I|I'm|I've|my|me)\b", text):
        return text
    if name:
        text = re.sub(rf"\b{re.escape(name.split(' ')[0])}\b", "I", text)
    words_ = text.split(" ")
    out: list[str] = []
    pending_verb = subject = text.startswith("I ")
    for index, word in enumerate(words_):
        bare = word.strip(".,;:!?").lower()
        tail = word[len(word.rstrip(".,;:!?")) :]
        following = words_[index + 1].lower() if index + 1 < len(words_) and not tail else ""
        if bare in ("he", "she"):
            out.append("I" + tail)
            pending_verb, subject = not tail, True
            continue
        if bare in _CONTRACTIONS:
            out.append(_CONTRACTIONS[bare] + tail)
            continue
        if subject and bare in ("and", "but") and not tail:
            # 'and is using…': the subject is left out, but the verb still has to agree.
            out.append(word)
            nxt = following.strip(".,;:!?")
            pending_verb = nxt in _BE_HAVE or nxt != _agree(nxt)
            continue
        # 'her' before a noun is possessive ('her rota'); otherwise an object ('accused her').
        possessive = bare == "his" or (bare == "her" and following not in ("", *STOPWORDS))
        mine = {"him": "me", "her": "me", "himself": "myself", "herself": "myself"}.get(bare, "")
        if possessive:
            mine = "my"
        if mine:
            out.append((mine.capitalize() if word[0].isupper() else mine) + tail)
            continue
        if pending_verb and bare and bare not in _ADVERBS:
            out.append(_agree(word.rstrip(".,;:!?")) + tail)
            pending_verb = False
            continue
        out.append(word)
    return " ".join(out)


def shape(persona: Persona, core: str, n: int, tangent: str = "", *, plain: bool = False) -> str:
    """Let the candidate's tendency shape an answer, within the persona's length.

    ``plain`` keeps only the nervousness: an admission is no moment for a boast or a tangent.
    """
    limit = persona.style.max_words
    lead, tail = "", ""
    if plain and persona.tendency != "nervous":
        pass
    elif persona.tendency == "oversells":
        core, tail = _as_owner(core), pick(_BOASTS, n)
    elif persona.tendency == "rambles" and tangent:
        tail = f"That reminds me, actually: {tangent} Anyway, I digress. That's the gist."
    elif persona.tendency == "nervous":
        # Tics on some answers, not all: on every one they read as a recording.
        lead = "" if _HEDGED.search(core) else pick(_NERVOUS_OPENERS, n)
        tail = pick(_NERVOUS_CLOSERS, n)
    elif persona.tendency == "strong":
        core = _structured(core)
    budget = max(limit - word_count(lead) - word_count(tail), limit // 2)
    text = " ".join(x for x in (lead, fit_words(core, budget), tail) if x)
    return fit_words(text, limit)
