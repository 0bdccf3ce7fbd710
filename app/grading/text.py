"""Analysis of one text, or one text against its partner's: sentences, questions, overlap.

Everything here is cached by text, so a transcript graded turn after turn analyses each turn once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.grading import lexicon as lx

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+|(?<=\?)(?=[A-Za-z])")
_CAP_RUN = re.compile(r"\b[A-Z][A-Za-z0-9&'’.-]*(?:[ ][A-Z][A-Za-z0-9&'’.-]*)*")
_DIGIT = re.compile(r"\d")
_FIRST_WORD = re.compile(r"[A-Za-z0-9]")
_ACRONYM = re.compile(r"[A-Z]{2,6}|[A-Z][a-z]+[A-Z]\w*")
_QMARK_END = re.compile(r"\?[\"'”’)\]]*\s*$")
# A question that starts a clause; relative "which was"/"who was" clauses are not questions.
_CLAUSE_QUESTION = re.compile(
    r"(?:^|,\s+|\band\s+|\bso\s+|\bbut\s+)(?:what|how|why|when|where)(?:'s|\s+(?:do|does|did|is|"
    r"are|was|were|would|could|can|will|should|has|have|had)\b)"
)
_ANY_WH = re.compile(r"\b(?:what|how|why|which|who|whom|whose|when|where)\b")
_CONTRACTIONS = (
    ("'m", " am"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("n't", " not"),
    ("'d", " would"),
    ("'s", " is"),
)
_NON_ALNUM = re.compile(r"[^a-z0-9']+")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper so 'routing', 'routes' and 'routed' meet."""
    if word.endswith(("'s", "s'")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


CONCRETE_STEMS = frozenset(stem(w) for w in lx.CONCRETE_TERMS)
GENERIC_STEMS = frozenset(stem(w) for w in lx.GENERIC_OBJECTS)


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, contractions expanded, padded with spaces."""
    out = text.lower().replace("’", "'").replace("‘", "'")
    for short, long in _CONTRACTIONS:
        out = out.replace(short, long)
    return f" {' '.join(_NON_ALNUM.sub(' ', out).replace(chr(39), '').split())} "


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    is_question: bool
    questions: int
    open: int
    stems: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    reflect_cue: bool
    details: int
    names: int
    enthusiasm: bool
    feeling: bool
    small_talk: bool = False  # a pleasantry question ("how are you?", "can you hear me?")

    @property
    def specific(self) -> bool:
        """Names something concrete: a detail, or several content words beyond the generic."""
        return self.details > 0 or len(self.stems - GENERIC_STEMS) >= 4


@dataclass(frozen=True, slots=True)
class TextInfo:
    """Everything about one text that does not depend on the conversation around it."""

    words: int
    sentences: tuple[Sentence, ...]
    stems: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    questions: int
    open: int
    numbers: int
    names: int
    concrete: int
    self_words: int
    other_words: int
    problem_words: int
    name_list: int
    counts: dict[str, int]

    @property
    def asks_beyond_small_talk(self) -> bool:
        """Asks at least one question that is not a pleasantry."""
        return any(s.is_question and not s.small_talk for s in self.sentences)


def _content(tokens: Iterable[str]) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    stems: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    previous: str | None = None
    for token in tokens:
        if token in lx.STOP_WORDS or len(token) < 3 or token.isdigit():
            previous = None
            continue
        current = stem(token)
        stems.add(current)
        if previous is not None:
            pairs.add((previous, current))
        previous = current
    return frozenset(stems), frozenset(pairs)


def _has_cue(core: str) -> bool:
    return bool(
        lx.AUX_START.match(core)
        or lx.PROMPT_START.match(core)
        or lx.WH_QUESTION.search(core)
        or lx.OPEN_CUE.search(core)
    )


def _question_counts(lower: str, core: str) -> tuple[bool, int, int]:
    """(is a question, questions in it, open ones) for one sentence."""
    asked = bool(
        _QMARK_END.search(lower)
        or lx.AUX_START.match(core)
        or lx.PROMPT_START.match(core)
        or lx.WH_QUESTION.match(core)
        or lx.CLAUSE_PROMPT.search(core)
        # Casual or transcribed speech often drops the question mark altogether.
        or (lower[-1:] not in ".!…" and _CLAUSE_QUESTION.search(core))
    )
    if not asked:
        return False, 0, 0
    opinion = bool(lx.OPINION_QUESTION.search(core))
    if lx.OPEN_CUE.search(core) or lx.PROMPT_START.match(core) or opinion:
        first_open = True
    elif lx.AUX_START.match(core):
        first_open = False
    else:
        wh = lx.WH_QUESTION.search(core) or _ANY_WH.search(core)
        first_open = bool(wh) and not lx.CLOSED_WH.match(core[wh.start() :]) if wh else False
    count, opened = 1, int(first_open)
    for match in lx.EXTRA_QUESTION.finditer(core):
        if _has_cue(core[: match.start()]):
            count += 1
            opened += opinion or bool(re.search(r"\b(?:what|how|why)\b", match.group()))
    return True, count, opened


def _proper_names(sentence: str) -> int:
    """Runs of capitalised words, ignoring the sentence's first word and everyday capitals."""
    names = 0
    first = _FIRST_WORD.search(sentence)
    start = first.start() if first else -1
    for run in _CAP_RUN.finditer(sentence):
        tokens = run.group().split()
        if run.start() == start and not _ACRONYM.fullmatch(tokens[0]):
            tokens = tokens[1:]
        names += any(t.rstrip(".'’") not in lx.COMMON_CAPITALISED for t in tokens)
    return names


@lru_cache(maxsize=8192)
def analyse(text: str) -> TextInfo:
    """Analyse one text on its own (cached by text)."""
    whole = text.lower().replace("’", "'")
    # Sentence-level cue searches only run when the whole text has the cue at all.
    has_reference = lx.REFERENCE.search(whole) is not None
    has_enthusiasm = lx.ENTHUSIASM.search(whole) is not None
    has_feeling = lx.FEELING.search(whole) is not None
    has_digit = _DIGIT.search(text) is not None
    sentences = []
    for raw in _SENTENCE_END.split(text):
        piece = raw.strip()
        if not piece:
            continue
        lower = piece.lower().replace("’", "'")
        core = lx.FILLER_START.sub("", lower)
        is_q, count, opened = _question_counts(lower, core)
        stems, pairs = _content(_WORD.findall(lower))
        names = _proper_names(piece)
        numbers = len(lx.NUMBER.findall(piece)) if has_digit else 0
        details = numbers + names + len(stems & CONCRETE_STEMS)
        cue = bool(
            lx.REFLECT_START.match(lower)
            or lx.REFLECT_START.match(core)
            or (has_reference and lx.REFERENCE.search(lower) is not None)
        )
        sentences.append(
            Sentence(
                piece,
                is_q,
                count,
                opened,
                stems,
                pairs,
                cue,
                details,
                names,
                has_enthusiasm and lx.ENTHUSIASM.search(lower) is not None,
                has_feeling and lx.FEELING.search(lower) is not None,
                is_q and lx.SMALL_TALK.search(lower.rstrip()) is not None,
            )
        )
    lower = whole
    tokens = _WORD.findall(lower)
    stems = frozenset().union(*(s.stems for s in sentences))
    pairs = frozenset().union(*(s.bigrams for s in sentences))
    counts = {
        name: len(pattern.findall(lower))
        for name, pattern in (
            ("solution_language", lx.SOLUTION),
            ("self_promotion", lx.SELF_PROMOTION),
            ("vision_statement", lx.VISION),
            ("trend_talk", lx.TREND),
            ("personal_disclosure", lx.PERSONAL),
            ("story_markers", lx.STORY_MARKER),
            ("humour", lx.HUMOUR),
            ("enthusiasm", lx.ENTHUSIASM),
            ("instruction_like", lx.INSTRUCTION_LIKE),
            ("acknowledges", lx.ACK),
            ("humble_brag", lx.HUMBLE_BRAG),
        )
    }
    question_text = " ".join(s.text.lower() for s in sentences if s.is_question)
    for name, pattern in (
        ("story_question", lx.STORY_QUESTION),
        ("passion_question", lx.PASSION_QUESTION),
        ("position_question", lx.POSITION_QUESTION),
        ("opinion_question", lx.OPINION_QUESTION),
        ("quiz_question", lx.QUIZ),
        ("logistics_question", lx.LOGISTICS),
        ("role_question", lx.ROLE_QUESTION),
    ):
        # These describe what is being asked, so only question sentences count.
        counts[name] = len(pattern.findall(question_text.replace("’", "'")))
    return TextInfo(
        words=len(tokens),
        sentences=tuple(sentences),
        stems=stems,
        bigrams=pairs,
        questions=sum(s.questions for s in sentences),
        open=sum(s.open for s in sentences),
        numbers=(len(lx.NUMBER.findall(text)) if _DIGIT.search(text) else 0)
        + sum(t in lx.NUMBER_WORDS for t in tokens),
        names=sum(s.names for s in sentences),
        concrete=len(stems & CONCRETE_STEMS),
        self_words=sum(t in lx.SELF_WORDS for t in tokens),
        other_words=sum(t in lx.OTHER_WORDS for t in tokens),
        problem_words=sum(t in lx.PROBLEM_WORDS for t in tokens),
        name_list=max(
            (len(lx.NAME_LIST_SPLIT.split(m.group())) for m in lx.NAME_LIST.finditer(text)),
            default=0,
        ),
        counts=counts,
    )


@dataclass(frozen=True, slots=True)
class Exchange:
    """How a turn relates to the partner's last turn."""

    shared_words: int
    shared_phrases: int
    overlap: float
    reflections: int
    reflects_feeling: bool
    picks_up: bool
    question_only: bool


def _overlap(stems: frozenset[str], pairs: frozenset[tuple[str, str]], theirs: TextInfo) -> float:
    shared = len(stems & theirs.stems) + len(pairs & theirs.bigrams)
    return min(1.0, shared / max(4, min(len(stems), len(theirs.stems))))


@lru_cache(maxsize=8192)
def exchange(text: str, partner_text: str) -> Exchange:
    """Relate ``text`` to ``partner_text`` (the partner's last turn; may be empty).

    A reflection is a sentence that frames what they said ("so you…", "it sounds like",
    "you mentioned") and shares two content words or a phrase with it, or a statement that
    shares three content words (two plus a phrase). The overlap looks at the questions when
    there are any: a follow-up is the question built on their words.
    """
    mine, theirs = analyse(text), analyse(partner_text)
    reflections, feeling = 0, False
    for s in mine.sentences:
        common = len(s.stems & theirs.stems)
        phrase = bool(s.bigrams & theirs.bigrams)
        framed = s.reflect_cue and (common >= 2 or phrase)
        restated = not s.is_question and (common >= 3 or (common >= 2 and phrase))
        if framed or restated:
            reflections += 1
            feeling = feeling or s.feeling
    asked = [s for s in mine.sentences if s.is_question]
    if asked and not reflections:
        overlap = _overlap(
            frozenset().union(*(s.stems for s in asked)),
            frozenset().union(*(s.bigrams for s in asked)),
            theirs,
        )
    else:
        overlap = _overlap(mine.stems, mine.bigrams, theirs)
    told = [s for s in theirs.sentences if not s.is_question]
    told_stems = frozenset().union(*(s.stems for s in told))
    told_pairs = frozenset().union(*(s.bigrams for s in told))
    picks_up = len(mine.stems & told_stems) >= 2 or bool(mine.bigrams & told_pairs)
    said = set().union(*(s.stems for s in mine.sentences if not s.is_question))
    return Exchange(
        shared_words=len(mine.stems & theirs.stems),
        shared_phrases=len(mine.bigrams & theirs.bigrams),
        overlap=round(overlap, 3),
        reflections=reflections,
        reflects_feeling=feeling,
        picks_up=picks_up,
        question_only=mine.questions > 0 and reflections == 0 and len(said) <= 2,
    )


@lru_cache(maxsize=4096)
def phrases_in(text: str, phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The stock phrases that occur in ``text`` (case, punctuation and contractions ignored)."""
    norm = normalise(text)
    found = [p for p in phrases if normalise(p) != "  " and normalise(p) in norm]
    # A listed phrase inside a longer listed phrase that also matched is the same finding.
    return tuple(
        p for p in found if not any(q != p and normalise(p) in normalise(q) for q in found)
    )


@lru_cache(maxsize=8192)
def fact_revealed(fact_text: str, text: str) -> bool:
    """Whether ``text`` states the hidden fact: most of its content words, or two phrases."""
    fact, said = analyse(fact_text), analyse(text)
    need = max(2, math.ceil(0.4 * len(fact.stems)))
    return len(fact.stems & said.stems) >= need or len(fact.bigrams & said.bigrams) >= 2
