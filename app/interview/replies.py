"""Checking a model's reply before it is saved: the faults that send a turn back to the plan's
script, shortening a reply that runs long, and watching a streamed reply for a private fact."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.interview.checks import (
    asking_sentences,
    content_stem,
    content_words,
    stem,
    word_count,
    words,
)

if TYPE_CHECKING:
    from app.interview.plan import Move

# Phrases that only a model stepping out of the role would say about itself.
# Everyday job talk ("during my training", "I was told to wait", "each user persona") must
# pass, so each phrase here is one a person in the role would not say about themselves.
_OUT_OF_CHARACTER = re.compile(
    r"\bas an ai\b|\bai (language )?model\b|\b(as|i'?m|i am) (just )?an? (ai|chatbot"
    r"|language model|virtual assistant|ai assistant)\b|\bsorry for any confusion\b"
    r"|\bsystem prompt\b|\bmy (system )?prompt\b|\bi am programmed\b|\bmy programming\b"
    r"|\bmy (system )?instructions (say|said|tell|told)\b"
    r"|\bi cannot (role-?play|pretend)\b|\b(stay|staying|break|breaking|remain) in character\b"
    r"|\bhidden facts?\b|\b(my|your|this) persona\b"
    # Lines of the step's own directive, echoed back instead of spoken.
    r"|\b(end with|ask) (exactly|no more than) one question\b|\bstay under \d+ words\b"
    r"|\breply with what\b|\byour next turn\b|\bfits the plan\b|\bkeeping its facts\b"
    # A letter or an edit note instead of speech.
    r"|^dear \w+,|\b(best|kind) regards\b|\bsincerely,"
    r"|\bhere'?s (the|a|my) (revised|rewritten|edited) version\b"
    r"|\bi'?ll provide a (revised|rewritten) version\b"
    r"|\b(edit|rewrite|rephrase) this (sentence|text|paragraph)\b|\bhere'?s the text in full\b"
    r"|\byour (ai|virtual) assistant\b",
    # Matched against lower-cased text: case-insensitive alternations are slow in re.
)

LENGTH_SLACK = 1.5

# A private fact counts as told once a reply uses this share of its content words.
LEAK_SHARE = 0.6
# A streamed reply stops being shown at this share, before the fact is complete.
STREAM_LEAK_SHARE = 0.5
# A fact with fewer content words is too generic to tell apart from ordinary talk.
SECRET_MIN_WORDS = 4


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    # ok | trimmed (ok: the reply ran long and its opening whole sentences are kept) |
    # empty | out_of_character | too_long | no_question | question_at_close |
    # leaks_private_fact | off_topic
    code: str = "ok"
    reason: str | None = None


LEAK = CheckResult(False, "leaks_private_fact", "the reply tells a private fact nobody asked about")


def length_limit(move: Move) -> int:
    """The most words a reply may have: the persona's limit with some slack."""
    return int(move.max_words * LENGTH_SLACK)


def secret_words(secrets: Iterable[str]) -> list[frozenset[str]]:
    """The content words of each private fact that is long enough to recognise in a reply."""
    return [w for w in map(content_words, secrets) if len(w) >= SECRET_MIN_WORDS]


def tells_secret(own: AbstractSet[str], hidden: AbstractSet[str], share: float) -> bool:
    """Whether a text with content words ``own`` uses ``share`` or more of a fact's words."""
    return len(own & hidden) >= share * len(hidden)


def check_reply(
    text: str, move: Move, partner_last: str = "", secrets: Sequence[str] = ()
) -> CheckResult:
    """Decide whether a model's reply may be saved, or the turn falls back to the plan's script.

    Lenient by design: a reply fails only for a clear fault, because a good reply from the
    model is worth more than the script.
    """
    reply = text.strip()
    if reply == move.script.strip():
        return CheckResult(True)
    if not reply:
        return CheckResult(False, "empty", "the model returned an empty reply")
    match = _OUT_OF_CHARACTER.search(reply.lower())
    if match:
        return CheckResult(
            False, "out_of_character", f"the reply steps out of character ({match.group(0)!r})"
        )
    count = word_count(reply)
    limit = length_limit(move)
    if count > limit:
        return CheckResult(
            False, "too_long", f"the reply has {count} words; the persona's limit is {limit}"
        )
    if move.expects_question and not asking_sentences(reply):
        return CheckResult(False, "no_question", "the plan asks a question and the reply has none")
    if move.kind == "close" and asking_sentences(reply) and not asking_sentences(move.script):
        return CheckResult(False, "question_at_close", "the goodbye asks a new question")
    own = content_words(reply)
    # Most of a private fact's words in a reply means the model told what wasn't asked.
    if any(tells_secret(own, hidden, LEAK_SHARE) for hidden in secret_words(secrets)):
        return LEAK
    # Short replies ('Okay. And then?') are judged on nothing but their form.
    # A goodbye need not share words with anything; only the plan's other steps have a topic.
    if len(own) >= 8 and move.kind != "close":
        anchors = {stem(w) for w in move.topic_words} | content_words(move.script)
        if not own & anchors and not own & content_words(partner_last):
            return CheckResult(
                False, "off_topic", "the reply shares no words with the topic or the last turn"
            )
    return CheckResult(True)


# Where a sentence ends: its marks and any closing quote or bracket, then a space or the end.
# "3.5 hours" and "e.g.," go on; the text in between is kept exactly as written.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")


def trim_reply(text: str, limit: int) -> str:
    """The reply's opening whole sentences that fit in ``limit`` words, exactly as written.

    Empty when not even the first sentence fits; an unfinished last sentence is never kept.
    """
    reply = text.strip()
    if word_count(reply) <= limit:
        return reply
    kept = used = 0
    for end in _SENTENCE_END.finditer(reply):
        used += word_count(reply[kept : end.end()])
        if used > limit:
            break
        kept = end.end()
    return reply[:kept].strip()


def settle_reply(
    text: str, move: Move, partner_last: str = "", secrets: Sequence[str] = ()
) -> tuple[str, CheckResult]:
    """The text to save for a model's reply, and the verdict on it.

    A reply whose only fault is its length keeps its opening whole sentences within the
    limit (code ``trimmed``), if those pass every check on their own. Otherwise the text is
    the plan's script: a long reply that cannot be shortened keeps the code ``too_long``,
    and the reason says what went wrong with the shorter version.
    """
    result = check_reply(text, move, partner_last, secrets)
    if result.ok:
        return text.strip(), result
    if result.code != "too_long":
        return move.script, result
    trimmed = trim_reply(text, length_limit(move))
    if not trimmed:
        return move.script, CheckResult(
            False, "too_long", f"{result.reason}, and its first sentence alone is longer"
        )
    again = check_reply(trimmed, move, partner_last, secrets)
    if not again.ok:
        return move.script, CheckResult(
            False, "too_long", f"{result.reason}; cut to whole sentences, {again.reason}"
        )
    return trimmed, CheckResult(
        True, "trimmed", f"{result.reason}; its first {word_count(trimmed)} words are kept"
    )


# The end of a text that may be a word still being written.
_WORD_TAIL = re.compile(r"[\w'’-]+$")


class SecretWatch:
    """Follows a reply chunk by chunk and stops showing it once it tells enough of a private
    fact: ``share`` of the fact's content words, read as ``content_words`` reads them.

    Each fact's words are read once per reply, and the reply's words as each one ends. A
    chunk is shown as soon as it arrives, except while the word being written would, once it
    ends, reach the share: that chunk waits for the end of the word, and is shown then only if
    the word turned out to be another one ("laid" going on as "laidback"). Facts whose words
    the plan's own line (``allowed``) already uses that much are not watched.
    """

    def __init__(
        self, secrets: Iterable[str], *, allowed: str = "", share: float = STREAM_LEAK_SHARE
    ) -> None:
        plan_words = content_words(allowed)
        facts = [w for w in secret_words(secrets) if not tells_secret(plan_words, w, share)]
        self._needed = [share * len(fact) for fact in facts]
        self._hits = [0] * len(facts)
        self._facts_of: dict[str, list[int]] = {}
        for index, fact in enumerate(facts):
            for word in fact:
                self._facts_of.setdefault(word, []).append(index)
        self._seen: set[str] = set()
        self._pending = ""
        self._held: list[str] = []
        self.tripped = False

    def feed(self, chunk: str) -> list[str]:
        """Take the next chunk of the reply; return the chunks that may be shown now."""
        if self.tripped:
            return []
        if not self._facts_of:
            return [chunk]
        text = self._pending + chunk
        tail = _WORD_TAIL.search(text)
        self._pending = tail.group(0) if tail else ""
        for word in words(text[: len(text) - len(self._pending)]):
            self._add(word)
        self._held.append(chunk)
        if self.tripped:
            self._held.clear()
        elif not self._would_trip(self._pending):
            return self._release()
        return []

    def finish(self) -> list[str]:
        """The reply has ended: read its last word; return the chunks still to be shown.

        ``tripped`` then says whether the reply told enough of a private fact.
        """
        for word in words(self._pending):
            self._add(word)
        self._pending = ""
        if self.tripped:
            self._held.clear()
        return self._release()

    def _release(self) -> list[str]:
        shown, self._held = self._held, []
        return shown

    def _add(self, word: str) -> None:
        key = content_stem(word)
        if key is None or key in self._seen:
            return
        self._seen.add(key)
        for index in self._facts_of.get(key, ()):
            self._hits[index] += 1
            if self._hits[index] >= self._needed[index]:
                self.tripped = True

    def _would_trip(self, pending: str) -> bool:
        for word in words(pending):
            key = content_stem(word)
            if key is not None and key not in self._seen:
                facts = self._facts_of.get(key, ())
                return any(self._hits[i] + 1 >= self._needed[i] for i in facts)
        return False


# "Your next turn as Maya Okafor:" and the like: the step's directive, echoed as a label.
_DIRECTIVE_LABEL = re.compile(
    r"^(?:(?:your|the) next (?:turn|move|reply)|mimic your response|your reply) "
    r"(?:as|to) [^:\n]{1,60}:\s*",
    re.IGNORECASE,
)


def clean_reply(text: str, speaker_name: str = "") -> str:
    """Strip what models wrap round a reply: a speaker label (or the step's directive echoed
    as one), surrounding quotes, blank edges."""
    reply = _DIRECTIVE_LABEL.sub("", text.strip(), count=1)
    labels = [label for label in (speaker_name, speaker_name.split(" ")[0]) if label]
    for label in labels:
        if reply.lower().startswith(label.lower() + ":"):
            reply = reply[len(label) + 1 :].strip()
            break
    if len(reply) >= 2 and reply[0] == reply[-1] and reply[0] in "\"'“”":
        reply = reply[1:-1].strip()
    if len(reply) >= 2 and reply[0] == "“" and reply[-1] == "”":
        reply = reply[1:-1].strip()
    return reply
