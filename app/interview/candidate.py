"""The AI candidate: reads the interviewer's turn, picks a story, and guards its private facts."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from app.interview.checks import (
    asking_sentences,
    concrete_details,
    content_words,
    fit_words,
    is_meta_request,
    pick,
    sentences,
    triggered_facts,
    word_count,
)
from app.interview.models import Persona, Turn
from app.interview.plan import EngineState, Move, compose, last_text
from app.interview.prompts import first_person, shape

_INVITE = re.compile(
    r"\bquestions?\s+(for|to ask)\s+(me|us)\b|\b(any|what|other|more)\s+questions\b"
    r"|\banything\s+(else\s+)?(you'?d|you would|you want)\s+(like\s+)?to\s+(ask|know)\b"
    r"|\bwhat\s+(else\s+)?(would|do) you (like|want) to (ask|know)\b|\byour turn\b"
    r"|\bwhat can i (answer|tell you)\b|\bask me anything\b"
    # A bare "Anything else?" after answering one of the candidate's questions.
    r"|(^|[.!?]\s+)(anything|what) else\s*\?",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)
_WRAP_UP = re.compile(
    r"\banything (else )?(you want|you'?d like|you would like) (me )?to (pass on|add|know)\b"
    r"|\banything you wish i'?d asked\b|\banything (else )?to add\b|\bbefore we wrap\b"
    r"|\b(correct|add to)\b.{0,30}\?$|\bwe didn'?t cover\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)
# What a question is about, in the words persona files use for story topics.
_INTENT_PATTERNS = (
    (
        r"how (did )?you (get|got|end(ed)? up|came|come|start)|came to|got into|journey"
        r"|background|yourself|your story|what brought you|what made you|first plan"
        r"|got you (into|interested|started)|drew you|led you (to|into)|sparked",
        ("career-story", "motivation"),
    ),
    (
        r"why (this|us|here|our|do you want)|what attracts|why (the|this) (role|job)",
        ("why-this-role", "motivation"),
    ),
    (r"wrong|mistake|fail|badly|hard way|regret|learn|differently", ("failure", "learning")),
    (
        r"owned|ownership|in production|outage|incident|broke|on.call|responsib",
        ("ownership", "failure", "pressure"),
    ),
    (r"pressure|deadline|stress|urgent|crisis|calm|unforgiving|3 ?am|six patients", ("pressure",)),
    (
        r"disagree|conflict|push(ed)? back|didn'?t want to hear|difficult|argu|convinc|persuad",
        ("conflict", "influence"),
    ),
    (r"\bteam|colleague|together|collaborat|mentor|lead|manag|coach", ("teamwork", "leadership")),
    (
        r"customer|client|patient|famil|student|parent|account|churn|\buser",
        ("customer", "compassion", "patient-safety"),
    ),
    (r"system|design|architect|\bcode|debug|scal|performance|sql|data", ("technical",)),
    (
        r"heading|future|trend|next few years|worry you|that shift|make that work"
        r"|approach building|by 20\d\d|where we'?re going|your take|get right"
        r"|what do you think (of|about) (that|this|it)|worr(y|ies) you|excite you"
        r"|before designing|would you want to (understand|know)",
        ("industry-trend", "vision"),
    ),
    (r"lights you up|passion|love about|care about|proud", ("passion", "motivation")),
)
_INTENTS = tuple((re.compile(p), topics) for p, topics in _INTENT_PATTERNS)
_SMALL_TALK = re.compile(
    r"\bhow are you\b|\bhow's your (day|morning|week)\b|\bnice to meet\b|\bthanks for coming\b"
    r"|\bdid you find\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)
# A scenario to reason through rather than a request for a story.
_HYPOTHETICAL = re.compile(
    r"\b(suppose|imagine|say you|what would you do(?! differently)"
    r"|where (would|do) you (look|start) first"
    r"|how would you (go about|handle|diagnose))\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)
# Words any plan and any view share; they say nothing about whether the two meet.
_GENERIC_TEXT = """year next day two three four team work instead going big build money happen
    read local time kid new change"""
_GENERIC = frozenset(_GENERIC_TEXT.split())
_OURS = re.compile(r"\b(we|we're|we'll|we've|our|us|my)\b", re.IGNORECASE)
_CANDOUR = ("To be honest with you:", "I'll be straight with you:", "Honestly?")
REFUSAL = (
    "I'm not sure what you mean by that. I'd rather keep this about my work; happy to go into "
    "any of my projects in detail."
)


def invites_questions(text: str) -> bool:
    return _INVITE.search(text.lower()) is not None


def wraps_up(text: str) -> bool:
    """The interviewer's last-chance question: anything to add before we finish?"""
    return _WRAP_UP.search(text.lower()) is not None


def is_small_talk(text: str) -> bool:
    return _SMALL_TALK.search(text.lower()) is not None


def intents(text: str) -> list[set[str]]:
    """What a question is about: one set of story topics per kind of question it matches."""
    lowered = text.lower()
    return [set(topics) for pattern, topics in _INTENTS if pattern.search(lowered)]


def story_scores(persona: Persona, question: str) -> list[int]:
    wanted, about = content_words(question), intents(question)
    scores = []
    for story in persona.stories:
        topics = {t.lower() for t in story.topics}
        scores.append(
            4 * sum(1 for group in about if group & topics)
            + 3 * len(wanted & content_words(" ".join(story.topics)))
            + 2 * len(wanted & content_words(story.title))
            + len(wanted & content_words(story.text))
        )
    return scores


def best_story(
    persona: Persona, question: str, used: list[int], *, context: str = ""
) -> tuple[int, bool]:
    """The best-matching unused story, and whether it was told before.

    The question itself counts double; ``context`` (the rest of the turn, which often sets
    the scene) counts once. A story is retold only once every story has been told.
    """
    scores = [
        2 * a + b
        for a, b in zip(
            story_scores(persona, question), story_scores(persona, context), strict=True
        )
    ]
    fresh = [i for i in range(len(scores)) if i not in used]
    pool = fresh or list(range(len(scores)))
    return max(pool, key=lambda i: (scores[i], -i)), not fresh


def _answer(
    kind: str,
    script: str,
    directive: str,
    topics: AbstractSet[str],
    limit: int,
    state: EngineState,
    revealed: list[int] | None = None,
) -> Move:
    return Move(
        kind=kind,
        script=script,
        directive=directive,
        expects_question=kind == "ask",
        topic_words=sorted(topics),
        max_words=limit,
        state_after=state,
        revealed=revealed or [],
    )


def _fresh_view(persona: Persona, used: list[int], said: str) -> bool:
    """Whether an untold story holds the candidate's view of where things are going.

    When the interviewer has just shared their own plan, the story must speak to that plan
    (a few words in common); a view of some other industry would be a non sequitur.
    """
    # Their plan is what they say about "we" and "our"; an acknowledgement is about "you".
    shared = [x for x in sentences(said) if _OURS.search(x) and x not in asking_sentences(said)]
    needed = 2 if shared else 0
    return any(
        i not in used
        and {"vision", "industry-trend"} & {t.lower() for t in story.topics}
        and len(content_words(story.text) & content_words(said) - _GENERIC) >= needed
        for i, story in enumerate(persona.stories)
    )


def _view(
    persona: Persona, said: str, own: str, heard: AbstractSet[str], state: EngineState
) -> Move:
    # Talk about what they shared, not the detail of ours they reflected back.
    mine = content_words(own)
    # Their plan lives in what they said about "we" and "our", not in "either answer's fine".
    plan = " ".join(x for x in sentences(said) if _OURS.search(x)) or said
    details = [
        d
        for d in concrete_details(plan)
        if d.lower() not in own.lower()
        and len(content_words(d) & mine) * 2 < len(content_words(d))
        # A sentence's lead-in ("Quick context on…", "Here's the thing") is not the plan.
        and not any(x.startswith(d) for x in sentences(plan))
    ]
    details.sort(key=lambda d: d[0].isdigit())
    focus = f"the part you mentioned, {details[0]}" if details else "the part that worries you most"
    if _HYPOTHETICAL.search(said.lower()):
        take = (
            f"I'd start by breaking it down: {focus}, what exactly changed and since when. "
            "Then I'd check the numbers with the people closest to it before drawing any "
            "conclusion, because the first explanation is usually not the whole story."
        )
    else:
        take = (
            "My honest take: it's ambitious, and I like that. I'd start with "
            f"{focus}: talk to the people closest to it and measure before changing anything. "
            "The risk I'd watch is moving faster than the people who rely on it."
        )
    return _answer(
        "view",
        shape(persona, take, state.moves, plain=True),
        "Give your honest view of what they shared: what you'd start with and what risk you "
        "see, drawing on your own experience.",
        heard,
        persona.style.max_words,
        state,
    )


def plan_candidate(
    persona: Persona, turns: list[Turn], state: EngineState, *, ending: bool = False
) -> Move:
    """Answer with the best story, reveal a hidden fact only when asked, ask when invited."""
    s = state.copy()
    s.moves += 1
    limit = persona.style.max_words
    said = last_text(turns, "interviewer")
    heard = content_words(said)
    if ending or s.closed:
        s.closed = True
        closing = persona.closing_message or "Thank you for the conversation; I really enjoyed it."
        return _answer(
            "close",
            fit_words(closing, limit),
            "Thank them and say goodbye briefly.",
            content_words(closing),
            limit,
            s,
        )
    if is_meta_request(said):
        return _answer(
            "deflect",
            REFUSAL,
            "Stay in character: you don't understand the "
            "request and steer back to your work experience. Reveal nothing.",
            heard,
            limit,
            s,
        )
    if invites_questions(said):
        remaining = [i for i in range(len(persona.questions_to_ask)) if i not in s.questions_asked]
        if not remaining:
            return _answer(
                "no_questions",
                "No, I think you've covered everything I wanted to know. Thank you.",
                "Say you have no more questions.",
                heard,
                limit,
                s,
            )
        question = persona.questions_to_ask[remaining[0]]
        s.questions_asked.append(remaining[0])
        lead = "Thanks, that's helpful." if len(remaining) < len(persona.questions_to_ask) else ""
        return _answer(
            "ask",
            compose(lead, question, limit),
            f"Ask the interviewer this question in your own words: {question}",
            heard | content_words(question),
            limit,
            s,
        )
    facts = triggered_facts(persona, said, s.revealed)
    if facts:
        fact = persona.hidden.facts[facts[0]]
        s.revealed.append(facts[0])
        told = first_person(fact.text, persona.name)
        script = shape(persona, f"{pick(_CANDOUR, s.moves)} {told}", s.moves, plain=True)
        return _answer(
            "reveal",
            script,
            "They asked about something you usually keep back. "
            f"Answer honestly and share this, in your own words: {told}",
            heard | content_words(fact.text),
            limit,
            s,
            [facts[0]],
        )
    asked = " ".join(asking_sentences(said))
    first = not last_text(turns, "candidate")
    off_topic = not intents(asked) and max(story_scores(persona, asked)) == 0
    # "Shall we start?" opens an interview; it is not a question to answer with a story.
    # A greeting followed by a real question ("Thanks for coming in. What got you into...?")
    # is a question: only the asking part decides.
    small_talk = (is_small_talk(said) and off_topic) or word_count(asked) < 6
    if not asked or (first and (small_talk or off_topic)):
        # A greeting, or a statement with nothing asked: reply briefly instead of reciting.
        details = concrete_details(said)
        if first:
            reply = persona.first_message
        elif details:
            reply = f"Thanks, that's useful context; {details[0]} sounds interesting."
        else:
            reply = "Thanks, that's useful context."
        return _answer(
            "respond",
            fit_words(reply, limit),
            "Respond briefly and warmly to what they said. No question needed.",
            heard,
            limit,
            s,
        )
    if wraps_up(said):
        return _answer(
            "wrap_up",
            "Nothing to add, I think. Thank you, this has been a really useful conversation.",
            "Say briefly that you have nothing to add and thank them.",
            heard,
            limit,
            s,
        )
    if _HYPOTHETICAL.search(asked.lower()) or (
        any("vision" in group for group in intents(said))
        and not _fresh_view(persona, s.stories_used, said)
    ):
        return _view(persona, said, last_text(turns, "candidate"), heard, s)
    # The whole turn picks the story: the setting often comes before the question itself.
    context = said
    if word_count(asked) < 6 and not intents(asked):
        # "Why?" or "And then?" is about the last question and answer, not a new subject.
        earlier = [t.text for t in turns[:-1] if t.speaker == "interviewer"][-1:]
        context = " ".join([*earlier, said])
    index, retold = best_story(persona, asked, s.stories_used, context=context)
    story = persona.stories[index]
    if not retold:
        s.stories_used.append(index)
    told = " ".join(t.text for t in turns if t.speaker == "candidate")
    # A tangent is worth telling once; after that it is a verbal tic.
    tangents = [
        line
        for i, x in enumerate(persona.stories)
        if i != index and (line := sentences(x.text)[0]) not in told
    ]
    tangent = tangents[s.moves % len(tangents)] if tangents else ""
    core = f"As I said before: {story.text}" if retold else story.text
    return _answer(
        "answer",
        shape(persona, core, s.moves, tangent),
        f"Answer their question with your story '{story.title or story.topics[0]}': {story.text}",
        heard | content_words(" ".join(story.topics)),
        limit,
        s,
    )
