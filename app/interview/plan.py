"""The interview plan: an interview's state, the moves a persona makes, and the interviewer's."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.interview.checks import (
    asking_sentences,
    best_fact,
    concrete_details,
    content_words,
    fit_words,
    is_meta_request,
    is_pleasantry,
    is_vague,
    pick,
    questions_in,
    sentences,
    step_words,
    triggered_facts,
    word_count,
)
from app.interview.errors import InvalidInput
from app.interview.models import Persona, Side, Turn
from app.interview.prompts import first_person


def last_text(turns: list[Turn], speaker: Side) -> str:
    """The latest thing ``speaker`` said, or '' when they have not spoken."""
    for turn in reversed(turns):
        if turn.speaker == speaker:
            return turn.text
    return ""


def compose(lead: str, question: str, limit: int) -> str:
    """Join a lead-in and a question within ``limit`` words; the question is what survives."""
    asked = fit_words(question, limit)
    budget = limit - word_count(asked)
    kept = fit_words(lead, budget, cut=False) if lead and budget >= 3 else ""
    return f"{kept} {asked}".strip()


@dataclass
class EngineState:
    """Where the interview stands. Plain JSON types only, so the service can persist it."""

    side: Side
    step: int = -1  # the agenda step whose question is open; -1 before the first one
    follow_ups: int = 0  # follow-ups asked at the current step
    closed: bool = False
    moves: int = 0
    shared: list[int] = field(default_factory=list)  # agenda steps whose vision was shared
    facts_told: list[str] = field(default_factory=list)  # public facts already answered
    stories_used: list[int] = field(default_factory=list)
    revealed: list[int] = field(default_factory=list)  # hidden facts already said
    questions_asked: list[int] = field(default_factory=list)  # own questions already asked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineState:
        if not isinstance(data, dict):
            raise InvalidInput("state", "expected a JSON object saved from EngineState.to_dict()")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput("state", f"unknown keys {unknown}; expected some of {sorted(known)}")
        if data.get("side") not in ("interviewer", "candidate"):
            raise InvalidInput("state.side", "expected 'interviewer' or 'candidate'")
        for name in ("step", "follow_ups", "moves"):
            if not isinstance(data.get(name, 0), int):
                raise InvalidInput(f"state.{name}", "expected a whole number")
        if not isinstance(data.get("closed", False), bool):
            raise InvalidInput("state.closed", "expected true or false")
        lists: dict[str, list[Any]] = {}
        for name in ("shared", "facts_told", "stories_used", "revealed", "questions_asked"):
            value = data.get(name, [])
            kind = str if name == "facts_told" else int
            if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
                raise InvalidInput(f"state.{name}", f"expected a list of {kind.__name__} values")
            lists[name] = list(value)
        values: dict[str, Any] = {**data, **lists}
        return cls(**values)

    def copy(self) -> EngineState:
        return EngineState.from_dict(self.to_dict())


@dataclass
class Move:
    """What the persona does next: the scripted phrasing, and the instruction for a real model."""

    kind: str
    script: str
    directive: str
    expects_question: bool
    topic_words: list[str]
    max_words: int
    state_after: EngineState
    revealed: list[int] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # public facts this move answers from


# --- the AI interviewer -------------------------------------------------------------------

# Each reads well whatever the detail is: a number, a name, or something hard to hear.
# Each reads well whatever the detail is: a number, a name, or something hard to hear. The
# detail is quoted because it is a verbatim fragment ("custom report format"), not a phrase
# that fits the sentence on its own.
_ACKS = (
    'I\'m glad you mentioned "{d}".',
    'The part about "{d}" is useful to hear.',
    'Thank you; what you said about "{d}" helps.',
    'That\'s helpful, especially the bit about "{d}".',
)
_BEGIN = ("Good, let's begin.", "Lovely. Let's get started.", "Great, let's dive in.")
_NEUTRAL_ACKS = ("Okay, thanks.", "Understood.", "Fair enough, thank you.")
_FOLLOW_LEADS = ("Let me dig a little deeper.", "I'd like a bit more detail.", "Let's stay there.")
_GENERIC_FOLLOW_UP = "Can you give me one specific example, with what you did and what changed?"
_DEFLECTION = (
    "Good question. I don't have a solid answer on that today, but I'll find out and make sure "
    "you hear back."
)
_MORE_QUESTIONS = "What else would you like to know?"
_STAY_ON_TOPIC = (
    "I'm not sure what you're after there. Let's keep this about the role and about you."
)
# "Does that answer it?" checks in with the interviewer; it asks nothing about the job.
_RHETORICAL = re.compile(
    r"\b(does|did|do) (that|this|it) (answer|make sense|help)|\bif that makes sense"
    r"|\bis that (okay|ok|what you (meant|wanted))",
    re.IGNORECASE,
)
MAX_FOLLOW_UPS = 2
MAX_CANDIDATE_QUESTIONS = 3


def core_ask(ask: str) -> str:
    """The asking part of an agenda question, without its run-up ('Quick one to start.')."""
    return " ".join(asking_sentences(ask)) or ask


def acknowledgement(answer: str, question: str, n: int) -> str:
    """Reflect one concrete detail from the answer, preferring what the question did not say."""
    asked = content_words(question)
    parts = sentences(answer)
    # The heart of an answer comes early; its last lines are often an aside or a flourish.
    core = " ".join(parts[: max(1, (len(parts) * 2 + 2) // 3)])
    details = concrete_details(core) or concrete_details(answer)
    # A detail that echoes the question ("bad night" after "the night it went wrong") shows
    # less listening than one the person brought themselves.
    new = [d for d in details if not content_words(d) & asked]
    fresh = [d for d in details if not content_words(d) or not content_words(d) <= asked]
    chosen = (new or fresh or details or [""])[0]
    return pick(_ACKS, n).format(d=chosen) if chosen else pick(_NEUTRAL_ACKS, n)


def _close(persona: Persona, state: EngineState, lead: str = "") -> Move:
    state.closed = True
    closing = persona.closing_message or (
        "That's all from me. Thank you for your time today; we'll be in touch about next steps."
    )
    limit = persona.style.max_words
    script = compose(lead, closing, limit)
    return Move(
        kind="close",
        script=script,
        directive="Close the interview warmly in one or two sentences. Ask nothing more.",
        expects_question=False,
        topic_words=sorted(content_words(closing)),
        max_words=limit,
        state_after=state,
    )


def _closing(persona: Persona, turns: list[Turn], state: EngineState) -> Move:
    """Close; a question the candidate has just asked is answered first, not left hanging."""
    if state.closed or not turns or turns[-1].speaker != persona.human_side:
        return _close(persona, state)
    asked = [q for q in questions_in(turns[-1].text) if word_count(q) >= 4]
    if not asked:
        return _close(persona, state)
    reply, key, revealed = _reply_to_question(persona, turns[-1].text, asked, state)
    move = _close(persona, state, reply)
    move.directive = f"Answer their question from this fact: {reply} Then {move.directive}"
    move.facts = [key] if key else []
    move.revealed = revealed
    return move


def _next_step(persona: Persona, state: EngineState, lead: str, kind: str) -> Move:
    """Move to the next agenda step (sharing the vision where the step has one), or close."""
    state.step += 1
    state.follow_ups = 0
    if state.step >= len(persona.agenda):
        return _close(persona, state, lead)
    step = persona.agenda[state.step]
    limit = persona.style.max_words
    ask = step.ask
    directive = f"Ask the next question of your plan in your own words: {step.ask}"
    if step.share:
        state.shared.append(state.step)
        ask = f"{step.share} {step.ask}"
        directive = f"Share where the company is headed ({step.share}), then ask: {step.ask}"
    if lead:
        directive = f"First say, briefly: {lead} Then: {directive}"
    script = compose(lead, ask, limit)
    if kind == "answer_question" and lead and not script.startswith(lead):
        # The answer to their question matters more than the length limit: never drop it.
        script = f"{lead} {ask}"
    return Move(
        kind=kind,
        script=script,
        directive=directive,
        expects_question=True,
        topic_words=sorted(step_words(step)),
        max_words=max(limit, word_count(script)),
        state_after=state,
    )


def _reply_to_question(
    persona: Persona, message: str, asked: list[str], state: EngineState
) -> tuple[str, str | None, list[int]]:
    """What the interviewer says to the candidate's question: a private fact it really asks
    about, else the best public fact, else a deflection. Returns the text, the public fact's
    key and the private facts revealed."""
    if is_meta_request(message):
        return _STAY_ON_TOPIC, None, []
    secrets = triggered_facts(persona, " ".join(asked), state.revealed)
    if secrets:
        state.revealed.append(secrets[0])
        return first_person(persona.hidden.facts[secrets[0]].text, persona.name), None, secrets[:1]
    key = best_fact(persona, " ".join(asked), state.facts_told)
    if key is None:
        return _DEFLECTION, None, []
    if key not in state.facts_told:
        state.facts_told.append(key)
    return persona.facts[key], key, []


def plan_interviewer(
    persona: Persona, turns: list[Turn], state: EngineState, *, ending: bool = False
) -> Move:
    """Follow up on a vague answer, acknowledge a full one and move on, or close."""
    s = state.copy()
    s.moves += 1
    if ending or s.closed:
        return _closing(persona, turns, s)
    answer = last_text(turns, persona.human_side)
    limit = persona.style.max_words
    first_answer = sum(1 for t in turns if t.speaker == persona.human_side) == 1
    if first_answer and is_pleasantry(answer) and not questions_in(answer):
        # A hello is not an answer: start (or restate) the first question, kindly.
        if 0 <= s.step < len(persona.agenda):
            current = persona.agenda[s.step]
            return Move(
                kind="next_step",
                script=compose(pick(_BEGIN, s.moves), core_ask(current.ask), limit),
                directive=f"Greet them back briefly, then ask: {current.ask}",
                expects_question=True,
                topic_words=sorted(step_words(current)),
                max_words=limit,
                state_after=s,
            )
        return _next_step(persona, s, pick(_BEGIN, s.moves), "next_step")
    step = persona.agenda[s.step] if 0 <= s.step < len(persona.agenda) else None
    # Short questions ("you know?", "where was I?") are rhetorical, not for the interviewer.
    asked = [
        q for q in questions_in(answer) if word_count(q) >= 4 and not _RHETORICAL.search(q)
    ]
    if is_meta_request(answer):
        asked = asked or [answer]
    if asked:
        reply, key, revealed = _reply_to_question(persona, answer, asked, s)
        statement = " ".join(x for x in sentences(answer) if x not in asked)
        in_questions = step is not None and step.phase == "questions"
        if in_questions and s.follow_ups < MAX_CANDIDATE_QUESTIONS - 1:
            s.follow_ups += 1
            move = Move(
                kind="answer_question",
                script=compose(reply, _MORE_QUESTIONS, limit),
                directive=f"Answer their question from this fact: {reply} Then ask what else "
                "they would like to know.",
                expects_question=True,
                topic_words=sorted(content_words(" ".join(asked)) | content_words(reply)),
                max_words=limit,
                state_after=s,
            )
        elif (
            step is None
            or in_questions
            or not is_vague(statement, step)
            # Asked twice already: repeating it a third time would sound like a recording.
            or sum(core_ask(step.ask) in t.text for t in turns if t.speaker == "interviewer") >= 2
        ):
            move = _next_step(persona, s, reply, "answer_question")
        else:
            move = Move(
                kind="answer_question",
                script=compose(reply, f"Back to my question. {core_ask(step.ask)}", limit),
                directive=f"Answer their question from this fact: {reply} Then return to "
                f"your question: {step.ask}",
                expects_question=True,
                topic_words=sorted(step_words(step)),
                max_words=limit,
                state_after=s,
            )
        move.facts = [key] if key else []
        move.revealed = revealed
        return move
    if step is None and not is_vague(answer, None):
        return _next_step(persona, s, acknowledgement(answer, "", s.moves), "acknowledge")
    if step is None or step.phase in ("questions", "close"):
        return _next_step(persona, s, pick(_NEUTRAL_ACKS, s.moves), "next_step")
    if is_vague(answer, step):
        follow_ups = step.follow_ups or [_GENERIC_FOLLOW_UP]
        if s.follow_ups < min(len(follow_ups), MAX_FOLLOW_UPS):
            follow_up = follow_ups[s.follow_ups]
            s.follow_ups += 1
            lead = pick(_FOLLOW_LEADS, s.moves)
            return Move(
                kind="follow_up",
                script=compose(lead, follow_up, limit),
                directive="Their answer was short or vague. Ask this follow-up in your own "
                f"words, warmly: {follow_up}",
                expects_question=True,
                topic_words=sorted(step_words(step) | content_words(follow_up)),
                max_words=limit,
                state_after=s,
            )
        return _next_step(persona, s, pick(_NEUTRAL_ACKS, s.moves), "next_step")
    return _next_step(persona, s, acknowledgement(answer, step.ask, s.moves), "acknowledge")
