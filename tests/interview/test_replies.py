"""A reply that runs long keeps its opening whole sentences; a streamed reply is watched for
private facts word by word."""

from __future__ import annotations

import pytest

from app.interview.checks import word_count
from app.interview.replies import (
    LEAK,
    SecretWatch,
    check_reply,
    length_limit,
    settle_reply,
    trim_reply,
)
from bench.fallback_rate import reason_code
from tests.interview.test_checks import PARTNER, move

SECRET = "I was laid off in March after a reorganisation, not by choice."


# --- shortening a long reply ---------------------------------------------------------------


def test_trimming_keeps_whole_sentences_exactly_as_written() -> None:
    text = "It took 3.5 hours.\nThen we rolled back. After that we wrote a long report."
    assert trim_reply(text, 10) == "It took 3.5 hours.\nThen we rolled back."
    assert trim_reply(text, 4) == ""  # not even the first sentence fits
    assert trim_reply(text, 100) == text


def test_trimming_never_keeps_an_unfinished_sentence() -> None:
    assert trim_reply("One two three. Four five six. Seven eight", 7) == (
        "One two three. Four five six."
    )
    assert trim_reply("One two three four five", 3) == ""


def test_a_reply_within_the_limit_is_saved_as_it_is() -> None:
    reply = "Three in the morning, ouch. What was the very first thing you did?"
    assert settle_reply(reply, move(), PARTNER) == (reply, check_reply(reply, move(), PARTNER))


def test_a_long_reply_keeps_its_opening_sentences_when_they_pass() -> None:
    opening = (
        "Three in the morning, ouch. What did you do in the first hour of the incident? "
        "I ask because that hour says a lot about how someone works under pressure."
    )
    more = " Some people call for help straight away, and others dig into the logs alone."
    planned = move(max_words=40)
    assert word_count(opening + more * 2) <= length_limit(planned) < word_count(opening + more * 3)
    saved, result = settle_reply(opening + more * 4, planned, PARTNER)
    assert saved == opening + more * 2
    assert (result.ok, result.code) == (True, "trimmed")
    assert word_count(saved) <= length_limit(planned)


def test_a_long_reply_whose_first_sentence_is_too_long_falls_back() -> None:
    planned = move(max_words=40)
    reply = "So the incident " + "really " * 70 + "hurt. What did you do first?"
    saved, result = settle_reply(reply, planned, PARTNER)
    assert saved == planned.script
    assert (result.ok, result.code) == (False, "too_long")
    assert result.reason == (
        "the reply has 79 words; the persona's limit is 60, and its first sentence alone is "
        "longer"
    )


def test_a_long_reply_that_loses_its_question_when_shortened_falls_back() -> None:
    planned = move(max_words=40)
    reply = "That outage at night sounds rough for the whole checkout team. " * 7
    reply += "What did you do first?"
    saved, result = settle_reply(reply, planned, PARTNER)
    assert saved == planned.script
    assert (result.ok, result.code) == (False, "too_long")
    assert result.reason is not None and "the reply has none" in result.reason


def test_a_long_reply_whose_opening_tells_a_private_fact_falls_back() -> None:
    planned = move(max_words=40)
    reply = (
        "Honestly, I was laid off in March after a reorganisation. What did you do first? "
        + "Tell me about the first hour of the outage, step by step. " * 6
    )
    saved, result = settle_reply(reply, planned, PARTNER, [SECRET])
    assert saved == planned.script
    assert result.code == "too_long"
    assert result.reason is not None and "private fact" in result.reason


def test_other_faults_fall_back_with_their_own_code() -> None:
    planned = move()
    saved, result = settle_reply("That sounds like a long night for the whole team.", planned)
    assert (saved, result.code) == (planned.script, "no_question")


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("So the incident " + "really " * 70 + "hurt. What did you do first?", "too_long"),
        ("That outage at night sounds rough for the team. " * 9 + "What now?", "too_long"),
    ],
)
def test_the_fallback_benchmark_reads_the_same_code_from_the_reason(reply: str, code: str) -> None:
    _, result = settle_reply(reply, move(max_words=40), PARTNER)
    assert result.code == code
    assert reason_code(result.reason) == code
    assert reason_code(LEAK.reason) == LEAK.code == "leaks_private_fact"


# --- watching a streamed reply -------------------------------------------------------------


def shown(watch: SecretWatch, chunks: list[str]) -> list[str]:
    """What the watch lets through of ``chunks``, the stream's end included."""
    out = [piece for chunk in chunks for piece in watch.feed(chunk)]
    return out + watch.finish()


def test_every_chunk_passes_at_once_while_no_fact_is_near() -> None:
    watch = SecretWatch([SECRET])
    # One of the fact's four content words (laid, march, reorganisation, choice) is not half.
    for chunk in ["In Ma", "rch we ", "had a big ", "launch", " day."]:
        assert watch.feed(chunk) == [chunk]
    assert watch.finish() == []
    assert not watch.tripped


def test_the_chunk_that_would_tell_half_of_a_fact_is_never_shown() -> None:
    watch = SecretWatch([SECRET])
    chunks = ["Honestly, ", "I was ", "laid ", "off in ", "March ", "after a reorganisation."]
    assert shown(watch, chunks) == chunks[:4]
    assert watch.tripped


def test_a_word_that_may_complete_a_fact_waits_for_its_end() -> None:
    leak = SecretWatch([SECRET])
    assert leak.feed("I was laid off in") == ["I was laid off in"]
    assert leak.feed(" March") == []  # "March" might go on, or end here
    assert leak.feed(", sadly.") == []
    assert leak.tripped
    other = SecretWatch([SECRET])
    assert other.feed("In March we were laid") == []
    assert other.feed("back about it.") == ["In March we were laid", "back about it."]
    assert other.finish() == [] and not other.tripped


def test_the_last_word_is_read_when_the_stream_ends() -> None:
    leak = SecretWatch([SECRET])
    assert shown(leak, ["It was in ", "March; I was laid"]) == ["It was in "]
    assert leak.tripped
    harmless = SecretWatch([SECRET])
    assert shown(harmless, ["It was in ", "March; we plan"]) == ["It was in ", "March; we plan"]
    assert not harmless.tripped


@pytest.mark.parametrize("text", ["Honestly, I was laid off in March.", "In March we laid-back."])
def test_any_split_of_a_reply_gives_the_same_verdict(text: str) -> None:
    whole = SecretWatch([SECRET])
    shown(whole, [text])
    for cut in range(len(text) + 1):
        split = SecretWatch([SECRET])
        assert "".join(shown(split, [text[:cut], text[cut:]])) in (text, text[:cut], "")
        assert split.tripped == whole.tripped


def test_a_short_fact_or_one_the_plan_tells_itself_is_not_watched() -> None:
    assert shown(SecretWatch(["Paid in euros."]), ["We were paid ", "in euros."]) == [
        "We were paid ",
        "in euros.",
    ]
    script = "In March, after a reorganisation, my whole team was let go."
    watch = SecretWatch([SECRET], allowed=script)
    assert shown(watch, [script]) == [script]
    assert not watch.tripped
