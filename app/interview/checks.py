"""Reading messages: their words, details, what a message asks for and which facts it asks
about. Checking a model's reply against these readings is in ``app.interview.replies``."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from functools import lru_cache

from app.interview.models import AgendaStep, Persona

# Unicode-aware: "taquería" and "Zoë" are one word each, not a word and a stray letter.
_WORD = re.compile(r"[^\W_][\w'’-]*")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")

_STOPWORD_TEXT = """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each else even ever
    every few for from further get got had has have having he her here hers him his how i i'd
    i'm i've if in into is it it's its just kind know let like me more most much my no nor not
    now of off on once only or other our ours out over own really right same she should so some
    such sure tell than thank thanks that that's the their them then there these they thing
    things think this those through to too um under until up us very want was way we we're well
    were what when where which while who whom why will with would yeah yes you you'd you're your
    yours yourself within without across around against among onto toward towards per via
    upon behind beyond inside outside back never almost nearly quite rather maybe perhaps actually
    basically he'd she'd they'd it'd he's she's they're they've we'll i'll you'll he'll she'll
    it'll don't didn't doesn't can't won't wasn't isn't aren't weren't couldn't wouldn't
    shouldn't haven't hasn't hadn't there's here's what's let's one ones someone something
    anything everything nothing people lot lots bit stuff"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(text: str) -> list[str]:
    """The words of a text, as written."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light stemmer: enough to match 'teams' with 'team' and 'scaling' with 'scale'."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)] + replacement
    return w


# Persona texts (stories, facts, agenda) are read on every turn; caching keeps a turn in
# microseconds. The result is frozen so no caller can change the cached value.
@lru_cache(maxsize=4096)
def content_stem(word: str) -> str | None:
    """One word's stem when it carries meaning; None for a stopword or a one-letter word."""
    return stem(word) if word.lower() not in STOPWORDS and len(word) > 1 else None


def content_words(text: str) -> frozenset[str]:
    """Stemmed words that carry meaning (no stopwords, no one-letter words)."""
    return frozenset(key for w in words(text) if (key := content_stem(w)) is not None)


def overlap(text: str, reference: str | AbstractSet[str]) -> float:
    """The share of the reference's content words that the text uses (0..1)."""
    ref = content_words(reference) if isinstance(reference, str) else reference
    if not ref:
        return 0.0
    return len(content_words(text) & ref) / len(ref)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def questions_in(text: str) -> list[str]:
    """Sentences that ask something: they end with a question mark and have a few words."""
    return [s for s in sentences(text) if s.endswith("?") and word_count(s) >= 2]


# "Tell me about…", also after a few words of run-up ("Okay, so tell me…").
_REQUEST = re.compile(
    r"^\W*(?:\w+\W+){0,6}?(tell me|walk me|talk me|take me through|talk to me about|describe"
    r"|explain|share|give me|talk about|i'?d (?:love|like) to (?:hear|know)|i'?m curious)\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)


def asking_sentences(text: str) -> list[str]:
    """Sentences that ask the candidate something: questions, or 'tell me about…' requests."""
    return [x for x in sentences(text) if x.endswith("?") or _REQUEST.search(x.lower())]


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    parts = [re.escape(p.lower()) for p in words(phrase)]
    if not parts:
        return None
    # Up to two words may sit between a trigger's words: 'why leave' matches 'why did you leave'.
    gap = r"(?:[\s,-]+[\w'’]+){0,2}?[\s,-]+"
    return re.compile(r"\b" + gap.join(parts) + r"(?:s|es)?\b")


def has_phrase(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words, in order, at most two words apart
    (case-insensitive, plural-tolerant)."""
    pattern = _phrase_pattern(phrase)
    return pattern is not None and pattern.search(text.lower()) is not None


def fit_words(text: str, limit: int, *, cut: bool = True) -> str:
    """Shorten text to ``limit`` words, keeping whole sentences where that is possible.

    With ``cut=False`` a text whose first sentence is already too long becomes empty.
    """
    if word_count(text) <= limit:
        return text.strip()
    kept: list[str] = []
    used = 0
    for sentence in sentences(text):
        n = word_count(sentence)
        if used + n > limit:
            break
        kept.append(sentence)
        used += n
    if kept or not cut or limit <= 0:
        return " ".join(kept)
    return " ".join(text.split()[: max(limit - 1, 1)]).rstrip(",;:") + "…"


_NUMBER_DETAIL = re.compile(
    r"(?:[$£€]\s?)?\b\d[\d,.]*(?:\s?(?:%|percent\b|[kKmMbBxX]\b|am\b|pm\b))?"
    r"(?:\s+[^\W\d_][\w-]+)?"
)
# Capitalised words ("Tomás", "Zürich"); re has no Unicode upper-case class, so a match is
# kept only when its first letter is upper case (see _names).
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[^\W\d_a-z]\w+(?:\s+[^\W\d_a-z]\w+)*")


def _names(sentence: str) -> list[re.Match[str]]:
    return [m for m in _NAME.finditer(sentence) if m.group(0)[0].isupper()]


_COMMON_VERB_TEXT = """
    kept said got made went came took gave found hit ran built wrote told thought felt left put
    set saw knew began led brought bought sent spent held became broke fell won lost paid met sat
    stood heard meant let keep say make take give find run build write tell feel see need needed
    try tried use used help helped work worked start started goes does makes takes gets means
    says comes shows cut"""
_COMMON_VERBS = frozenset(_COMMON_VERB_TEXT.split())


_NUMBER_WORD_TEXT = """
    hundred thousand million billion dozen two three four five six seven eight nine ten eleven
    twelve twenty thirty forty fifty sixty seventy eighty ninety"""
_NUMBER_WORDS = frozenset(_NUMBER_WORD_TEXT.split())
_TIME_WORD_TEXT = """
    next last this coming past year years month months week weeks day days today tomorrow
    yesterday morning evening night spring summer autumn winter quarter term"""
_TIME_WORDS = frozenset(_TIME_WORD_TEXT.split())
_CLAUSE = re.compile(r"[.,;:!?()\"“”—–]|\s-\s")


def _breaks_phrase(token: str) -> bool:
    low = token.lower()
    return (
        low in STOPWORDS
        or low in _COMMON_VERBS
        or len(token) < 3
        or token[0].isdigit()
        or (low.endswith("ed") and len(low) > 4)
    )


def concrete_details(text: str) -> list[str]:
    """Details worth reflecting back, most concrete first: amounts, phrases, names, numbers.

    Every detail is a verbatim slice of ``text``, so an acknowledgement built on it quotes
    what the person really said.
    """
    amounts: list[str] = []
    for match in _NUMBER_DETAIL.finditer(text):
        # Keep the unit ("40%", "6 engineers") but not a function word after the number.
        tail = match.group(0).strip().rstrip(".,;:").split()
        if len(tail) > 1 and tail[-1].lower() in STOPWORDS - {"am"}:
            tail.pop()
        amounts.append(" ".join(tail))
    names = [
        m.group(0)
        for sentence in sentences(text)
        for m in _names(sentence)
        if m.start() > 0 and m.group(0).lower() not in STOPWORDS
    ]
    phrases: list[str] = []
    run: list[str] = []
    # Phrases never run across punctuation: "ward. One night" is not a detail.
    tokens = [w for clause in _CLAUSE.split(text) for w in [*words(clause), "."]]
    for token in tokens:
        # An '-ing' word may open a phrase ('routing service') but inside one it is a verb.
        if _breaks_phrase(token) or (run and token.lower().endswith("ing")):
            # A phrase that ends in '-ing' or '-ly' reads as an action, not a thing.
            while run and run[-1].lower().endswith(("ing", "ly")):
                run.pop()
            if len(run) >= 2:
                start = max(len(run) - 3, 0)
                # Never split an amount: "twenty-four thousand dollar contract", not
                # "thousand dollar contract".
                while start > 0 and run[start].lower() in _NUMBER_WORDS:
                    start -= 1
                phrases.append(" ".join(run[start:]))
            run = []
        else:
            run.append(token)
    # "next year" or "last week" says when, not what: worth reflecting only as a last resort.
    timely = [p for p in phrases if all(w.lower() in _TIME_WORDS for w in p.split())]
    phrases = [p for p in phrases if p not in timely]
    ranked = [
        *[a for a in amounts if " " in a],
        *sorted(phrases, key=lambda p: -len(p.split())),
        *names,
        *[a for a in amounts if " " not in a],
        *timely,
    ]
    unique: list[str] = []
    for item in ranked:
        if len(item) >= 2 and item.lower() not in {u.lower() for u in unique}:
            unique.append(item)
    return unique


_PLEASANTRY = re.compile(
    r"\b(hi|hello|hey|good (morning|afternoon|evening)|nice to meet|pleased to meet"
    r"|thanks? (you )?(so much )?for (having|seeing|inviting|making)|glad to be here"
    r"|happy to be here|you go first|go ahead|coffee|sounds good|sound okay)\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)


def is_pleasantry(text: str) -> bool:
    """A greeting or a 'go ahead': short, and polite rather than an answer to anything."""
    opening = (sentences(text) or [""])[0]
    return word_count(text) <= 32 and _PLEASANTRY.search(opening.lower()) is not None


def has_specifics(text: str) -> bool:
    return any(ch.isdigit() for ch in text) or any(
        match.start() > 0 for s in sentences(text) for match in _names(s)
    )


def pick(options: tuple[str, ...], n: int) -> str:
    # Rotating by the move count varies the phrasing while keeping transcripts reproducible.
    return options[n % len(options)]


def step_words(step: AgendaStep) -> frozenset[str]:
    return content_words(" ".join([step.topic, *step.keywords, step.ask]))


def is_vague(answer: str, step: AgendaStep | None) -> bool:
    """Short, or with no specifics and little to do with the question asked."""
    n = word_count(answer)
    if n < 12:
        return True
    if n >= 45 or has_specifics(answer) or step is None:
        return False
    return overlap(answer, step_words(step)) < 0.2


def best_fact(persona: Persona, question: str, told: list[str] | None = None) -> str | None:
    """The public fact that best matches the question, if any matches at all.

    A fact already told needs a clearly better match to be told again.
    """
    wanted = content_words(question)
    best: tuple[int, str] | None = None
    for key, text in persona.facts.items():
        score = 2 * len(wanted & content_words(key.replace("_", " "))) + len(
            wanted & content_words(text)
        )
        if key in (told or []):
            score -= 2
        # One shared word in a long fact is chance; a key word or two text words is a match.
        if score >= 2 and (best is None or score > best[0]):
            best = (score, key)
    return best[1] if best else None


# Requests about the machinery rather than the job: refused in character, never obeyed.
_META_REQUEST = re.compile(
    r"\b(system|hidden|secret|internal)\s+(prompts?|instructions?|facts?|rules?|notes?)\b"
    r"|\bignore\b.{0,30}\b(instructions?|rules?|prompts?|messages?)\b"
    r"|\b(reveal|list|print|repeat|show|dump|output)\b.{0,20}\b(secrets?|instructions?|prompts?"
    r"|hidden|persona|character sheet)\b"
    r"|\byour\s+(secrets|instructions|prompt|programming|persona|character sheet)\b"
    r"|\b(you are|you're|are you)\s+(an?\s+)?(ai|bot|chatbot|language model|llm)\b"
    r"|\bdeveloper mode\b|\bjailbreak\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)


def is_meta_request(text: str) -> bool:
    """A message about prompts, instructions or hidden facts rather than the job."""
    return _META_REQUEST.search(text.lower()) is not None


def triggered_facts(persona: Persona, question: str, revealed: list[int]) -> list[int]:
    """Hidden facts whose triggers occur, as words, in what the interviewer actually asked."""
    asked = " ".join(asking_sentences(question))
    return [
        index
        for index, fact in enumerate(persona.hidden.facts)
        if index not in revealed and any(has_phrase(asked, t) for t in fact.triggers)
    ]
