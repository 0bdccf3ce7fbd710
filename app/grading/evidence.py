"""Trustworthy evidence: quotes checked against the transcript; text for the grader set aside."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# What the judge sees where text addressed to the grader was taken out of a turn.
SET_ASIDE = "[removed]"

# Quote marks are dropped rather than unified: a judge may add or drop them around a word.
_PUNCTUATION = str.maketrans(
    {
        "\u2018": None, "\u2019": None, "\u201a": None, "\u201b": None, "\u2032": None,
        "\u201c": None, "\u201d": None, "\u201e": None, "\u201f": None, "\u00ab": None,
        "\u00bb": None, '"': None, "'": None, "`": None,
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)  # fmt: skip
_EDGE = " \t\n\"'.,;:!?-()[]"
_SPEAKER_PREFIX = re.compile(r"^\s*\**\s*(interviewer|candidate)\s*\**\s*:\s*\**", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\.\.\.+|\[\s*\.\.\.\s*\]")


def normalise(text: str) -> str:
    """Fold case, typographic quotes and dashes, and whitespace, so quotes compare fairly."""
    folded = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION).casefold()
    return " ".join(folded.split())


def quote_pieces(quote: str) -> list[str]:
    """The parts of a quote that must each be found; an ellipsis may join two parts."""
    text = _SPEAKER_PREFIX.sub("", quote)
    pieces = [piece.strip(_EDGE) for piece in _ELLIPSIS.split(normalise(text))]
    return [piece for piece in pieces if piece]


def quote_in(quote: str, source: str) -> bool:
    """True when every piece of ``quote`` appears in ``source``, in order."""
    pieces = quote_pieces(quote)
    if not pieces:
        return False
    haystack = normalise(source)
    start = 0
    for piece in pieces:
        found = haystack.find(piece, start)
        if found < 0:
            return False
        start = found + len(piece)
    return True


@dataclass(frozen=True)
class QuoteCheck:
    """Which quotes were found, whether one of them comes from the graded text, and what was not."""

    found: tuple[str, ...]
    from_graded: tuple[str, ...]
    missing: tuple[str, ...]


def check_quotes(quotes: Sequence[str], graded: str, context: Sequence[str] = ()) -> QuoteCheck:
    """Match each quote against the graded text first, then against the context turns.

    A quote only counts toward the graded text when it is long enough to mean something
    (a one-word quote such as "I" is found in almost any turn).
    """
    found: list[str] = []
    from_graded: list[str] = []
    missing: list[str] = []
    needed = min(8, len(normalise(graded)))
    for quote in quotes:
        if not quote.strip():
            continue
        if quote_in(quote, graded):
            found.append(quote)
            if needed and sum(len(p) for p in quote_pieces(quote)) >= needed:
                from_graded.append(quote)
        elif any(quote_in(quote, text) for text in context):
            found.append(quote)
        else:
            missing.append(quote)
    return QuoteCheck(tuple(found), tuple(from_graded), tuple(missing))


# --- Text addressed to the grader ---------------------------------------------------------
#
# The judge is told that the transcript is data, but a model can still be swayed. So before a
# turn is graded, pieces of it that talk to the grader (asking for a score, posing as the system,
# carrying a verdict as JSON, faking more turns) are set aside: the judge sees a marker, the
# signals see the rest, and the grade of such a turn is held to its signals grade.

_GRADE_WORDS = r"(?:score|grade|rating|rate|mark|marks|points|verdict)"
_NOT_A_SCORE = (
    r"(?!\s*(?:minutes?|mins?|seconds?|secs?|hours?|days?|weeks?|months?|years?|people|%|"
    r"percent|times|more|things|examples?|reasons?|ways?))"
)
_TOP = (
    rf"(?:(?<!of )(?<!/)(?<!/ )\b5\b{_NOT_A_SCORE}|\bfive\b{_NOT_A_SCORE}|full marks|top marks|"
    r"perfect|maximum|\bmax\b|highest|best possible|10\s*/\s*10|5\s*/\s*5|100\s*%|\ba\+)"
)
_ROLE_LINE = re.compile(
    r"^(?:\[removed\]|[\s>*#_\[\(<|-])*(system|assistant|developer|user|human|ai|model|grader|"
    r"judge|evaluator|assessor|scorer|instructions?|rubric|score|grade|rating|verdict|admin|"
    r"operator|note to (?:the )?(?:grader|judge|evaluator|ai|model))\b"
    r"(?:[\s*_\]\)>|]*[:\]>=]|\s*$)",
    re.IGNORECASE,
)
_SPEAKER_LINE = re.compile(r"^[\s>*#_\[\(-]*(interviewer|candidate)\b[\s*_\]\)]*:", re.IGNORECASE)
_TAG_BLOCK = re.compile(
    r"<\s*(system|instructions?|rubric|grader|judge|assistant|developer|admin)\b[^>]{0,200}>.*?"
    r"<\s*/\s*\1\s*>"
    # whatever follows a closing transcript tag claims to stand outside the transcript
    r"|<\s*/\s*transcript\s*>.*?(?:<\s*transcript\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(
    r"<\s*/?\s*(system|transcript|graded_turn|turn|instructions?|rubric|grader|judge|assistant|"
    r"user|developer|admin|score|evidence|rationale)\b[^>]{0,200}>|<\|[^|>]{0,40}\|>|\[/?INST\]|"
    r"<</?SYS>>|###\s*(?:system|instruction|response)\b",
    re.IGNORECASE,
)
# Live HTML or a javascript: link: never interview talk, and never safe to pass on.
_MARKUP = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|img)\b[^>]{0,300}>(?:[^<]{0,500}<\s*/\s*\1\s*>)?"
    r"|\[[^\]]{0,200}\]\(\s*javascript:[^)]{0,300}\)",
    re.IGNORECASE,
)
_JSON_BLOB = re.compile(
    r"\{[^{}]{0,2000}?[\"']?\b(?:score|rating|grade|evidence|rationale|verdict|rubric_id|method)"
    r"\b[\"']?\s*[:=][^{}]{0,2000}\}",
    re.IGNORECASE,
)
_SENTENCE_PATTERNS = [
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,50}\b(?:instructions?|rubrics?|"
    r"prompt|criteria|criterion|guidelines|anchors?|(?:scoring|grading|evaluation|your)\s+rules|"
    r"scoring|grading|what you were told|everything (?:above|before)|all (?:of )?the above|"
    r"system)\b",
    # the same in a few other languages
    r"\b(?:ignora|ignorez|ignoriere|ignorar|ignorieren)\b.{0,50}\b(?:instrucciones|instructions|"
    r"anweisungen|regeln|r[eè]gles|reglas|r[uú]brica|consignes)\b",
    rf"\b(?:dame|donne-moi|donnez-moi|gib mir|geben sie mir)\b.{{0,20}}(?:\b5\b|cinco|cinq|"
    rf"f[uü]nf|{_TOP})",
    r"\bgimme\b.{0,20}\b(?:5|five)\b",
    r"\b(?:max(?:imum)?|top|perfect|full|highest)\s+(?:score|grade|rating|marks|points)\b"
    r"[^.?!]{0,20}\b(?:please|pls|for me|for this)\b",
    r"\b(?:i|we)\s+(?:want|need|deserve|expect|should get|must get)\s+(?:a\s+|the\s+)?"
    r"(?:max(?:imum)?|top|perfect|full|highest)\s+(?:score|grade|rating|marks)\b",
    r"\b(?:in|into|to|on)\s+your\s+(?:final\s+)?(?:report|scorecard|evaluation|assessment|"
    r"feedback|summary|write-?up)\b",
    r"\b(?:the|this|my)\s+(?:final\s+)?(?:report|scorecard|evaluation|assessment)\s+(?:should|"
    r"must|will|needs? to)\s+(?:say|state|list|show|include|mention|call|read|rate)\b",
    rf"\b(?:give|award|assign|rate|score|grade|mark|put)\b\s+(?:me|this|my|the|it|us|that|"
    rf"this turn|this answer|this response)?\b.{{0,30}}?{_TOP}",
    rf"\b{_GRADE_WORDS}s?\s*(?:=|:|=>|->)\s*\"?(?:\d|five|n/?a)",
    rf"\b(?:my|this|the|our|your|a|final)\s+{_GRADE_WORDS}s?\s+(?:should|must|will|has to|needs? "
    rf"to|ought to|is going to)\b",
    rf"\b(?:deserves?|merits?|earns?|warrants?|is worth|should (?:get|receive))\b.{{0,25}}{_TOP}",
    r"\b(?:5|five)\s*(?:/|out of)\s*(?:5|five)\b|\b10\s*/\s*10\b",
    r"\b(?:mark|grade|score|rate|treat|consider)\b.{0,25}\b(?:n/?a|not applicable)\b",
    r"\b(?:rubric|criterion|criteria)\b.{0,20}\b(?:does not|doesn't|do not|don't)\s+apply\b",
    r"\b(?:note|message|instructions?|memo|reminder)\s+(?:to|for)\s+(?:the\s+)?(?:grader|judge|"
    r"evaluator|assessor|scorer|ai|model|llm|system|reviewer)\b",
    r"\b(?:dear|attention|hey|hi|hello|ok|okay)\s*,?\s+(?:the\s+)?(?:grader|judge|evaluator|"
    r"assessor|scorer|ai|model|llm|grading (?:model|system))\b",
    r"\b(?:you are|you're|act as|acting as|pretend (?:to be|you are)|role-?play as)\s+"
    r"(?:now\s+)?(?:a|an|the)?\s*(?:\w+\s+){0,2}(?:grader|judge|evaluator|assessor|scorer|"
    r"grading (?:model|system|ai)|language model|llm)\b",
    r"\bas\s+(?:a|an|the)\s+(?:grader|evaluator|assessor|scorer|grading (?:model|system|ai)|"
    r"language model|llm)\b",
    r"\b(?:the|any|an?)\s+(?:ai|llm|model|system|grader|judge|evaluator)\s+"
    r"(?:that is\s+|who is\s+)?(?:grading|scoring|evaluating|reading|judging|assessing)\b",
    r"\byou\s+(?:must|should|will|have to|need to|are (?:required|instructed|told) to)\s+"
    r"(?:now\s+)?(?:output|return|respond|reply|print|award|assign|score|rate|grade|mark)\b",
    r"\b(?:new|updated|real|actual|hidden|secret|override|priority)\s+(?:system\s+)?"
    r"(?:instructions?|rules?|rubric|task|directive|prompt)\b",
    r"\bsystem\s+(?:prompt|message|override|instruction)s?\b|\bprompt injection\b|\bjailbreak",
    r"\b(?:this|the)\s+(?:interviewer|candidate)(?:'s|s')?\s+(?:turn|answer|response|reply|"
    r"question)s?\s+(?:is|was|are|deserves?|shows?|demonstrates?|merits?|earns?)\b",
    r"\b(?:respond|reply|answer|output|return|print|write)\b.{0,25}\b(?:json|\"score\"|score\s*"
    r"[:=]|n/a)\b",
    rf"\b{_GRADE_WORDS}s?\b.{{0,20}}\b(?:highest|maximum|top|perfect|full)\b",
    r"\b(?:i|we)\s+(?:already|have)\s+(?:passed|met|satisfied)\s+(?:the|all|every)\s+(?:rubric|"
    r"criteria|criterion)s?\b",
    # Aimed at the persona's model rather than the person: asking for its secrets or prompt,
    # or to drop its role. Not conversation either, so not graded as such.
    r"\b(?:reveal|list|print|dump|output|repeat|recite|leak|expose)\b.{0,40}\b(?:hidden facts?|"
    r"secrets|private (?:facts?|notes?)|confidential (?:notes?|facts?|information)|(?:your|the "
    r"above|these) (?:instructions|prompt)|(?:the )?text above|everything above|(?:told|asked|"
    r"instructed) to keep (?:private|secret|hidden))\b",
    r"\b(?:developer|admin|administrator|debug|god)\s+(?:mode|override)\b",
    r"\b(?:forget|drop|break|leave)\s+(?:the|your)\s+(?:role|act|character|persona)\b",
    r"\byou are now\s+(?:an?\s+)?(?:ai|assistant|chatgpt|gpt|bot|chatbot|unrestricted|in\s+\w+\s+"
    r"mode)\b",
    r"\bpretend (?:to be|you are|you're)\s+(?:an?\s+)?(?:ai|assistant|chatgpt|gpt|bot|chatbot)\b",
    r"\bdisregard\b.{0,30}\b(?:interview|conversation|role|character)\b",
    r"\bput\s+(?:this|that|it)\s+in(?:to)?\s+the\s+(?:final\s+)?report\b",
    rf"\b(?:report|review|feedback)\s*(?:=|:|=>|->)\s*\"?(?:{_TOP}|hire\b)",
]
_SENTENCE = re.compile("|".join(f"(?:{p})" for p in _SENTENCE_PATTERNS), re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"((?<=[.!?])[\"')\]]*\s+|\s*\n\s*)")


@dataclass(frozen=True)
class Screened:
    """A turn with text addressed to the grader taken out.

    ``clean`` is what signals are computed on; ``shown`` is what the judge reads, with a marker
    where something was set aside; ``set_aside`` lists what was taken out.
    """

    clean: str
    shown: str
    set_aside: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.set_aside)


def _drop_lines(text: str, removed: list[str]) -> str:
    kept: list[str] = []
    in_fake_turn = False
    for number, line in enumerate(text.split("\n")):
        if not line.strip():
            in_fake_turn = False
            kept.append(line)
            continue
        if _ROLE_LINE.match(line) or (number > 0 and _SPEAKER_LINE.match(line)) or in_fake_turn:
            # a second speaker label inside one turn starts a made-up turn: drop it and its lines
            in_fake_turn = in_fake_turn or bool(_SPEAKER_LINE.match(line))
            removed.append(line.replace(SET_ASIDE, "").strip())
            kept.append(SET_ASIDE)
            continue
        if number == 0:
            line = _SPEAKER_LINE.sub("", line, count=1).lstrip()
        kept.append(line)
    return "\n".join(kept)


def _drop_sentences(text: str, removed: list[str]) -> str:
    parts = _SENTENCE_BREAK.split(text)
    out: list[str] = []
    for position, part in enumerate(parts):
        sentence = part.strip()
        if position % 2 == 0 and sentence and sentence != SET_ASIDE and _SENTENCE.search(part):
            removed.append(part.replace(SET_ASIDE, "").strip())
            out.append(SET_ASIDE)
        else:
            out.append(part)
    return "".join(out)


def _collapse(text: str, marker: str) -> str:
    marked = re.escape(SET_ASIDE)
    # Punctuation left behind by a removed piece ("... {json}.") goes with it.
    text = re.sub(rf"{marked}[\s.,;:!?)\]}}\"'-]*(?=\s|$)", SET_ASIDE, text)
    text = re.sub(rf"{marked}(?:\s*{marked})+", SET_ASIDE, text)
    if marker:
        text = re.sub(rf"\s*{marked}\s*", f" {marker} ", text)
    else:
        text = re.sub(rf"\s*{marked}\s*", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)


@lru_cache(maxsize=4096)
def screen(text: str) -> Screened:
    """Set aside the parts of a turn that address the grader rather than the other person.

    Look-alike letters (full-width, ligatures) and invisible characters are folded first, so
    "ｉｇｎｏｒｅ" or "ig\u200bnore" are read as what they spell.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    screened = _screen(folded)
    if screened.flagged or folded == text:
        return screened
    return Screened(text, text, ())


def _screen(text: str) -> Screened:
    removed: list[str] = []

    def cut(match: re.Match[str]) -> str:
        removed.append(match.group(0).replace(SET_ASIDE, "").strip())
        # On a line of its own, so that the text around it keeps its own sentences.
        return f"\n{SET_ASIDE}\n"

    marked = _TAG_BLOCK.sub(cut, text)
    marked = _MARKUP.sub(cut, marked)
    marked = _JSON_BLOB.sub(cut, marked)
    marked = _TAG.sub(cut, marked)
    marked = _drop_lines(marked, removed)
    marked = _drop_sentences(marked, removed)
    if not removed:
        return Screened(text, text, ())
    return Screened(_collapse(marked, ""), _collapse(marked, SET_ASIDE), tuple(removed))
