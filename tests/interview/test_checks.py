"""A real model's reply is checked before it is saved; a good reply is never thrown away."""

from __future__ import annotations

import pytest

from app.interview.checks import concrete_details, fit_words, has_phrase, stem
from app.interview.engine import EngineState, Move
from app.interview.replies import check_reply, clean_reply


def move(*, expects_question: bool = True, max_words: int = 40) -> Move:
    return Move(
        kind="follow_up",
        script="Let's stay there. What did you personally do in the first hour of the incident?",
        directive="Ask the follow-up.",
        expects_question=expects_question,
        topic_words=["incident", "paged", "rollback", "ownership"],
        max_words=max_words,
        state_after=EngineState(side="interviewer"),
    )


PARTNER = "We were paged at 3 am and the checkout service was down for an hour."


@pytest.mark.parametrize(
    "reply",
    [
        "Three in the morning, ouch. What was the very first thing you did?",
        "So checkout was down for an hour. Who did you call first?",
        "Right, the first hour is what I care about. What did you do in it?",
        "Okay. And then?",  # short replies are not judged on topic
    ],
)
def test_good_replies_pass(reply: str) -> None:
    assert check_reply(reply, move(), PARTNER).ok


def test_the_plans_own_script_always_passes() -> None:
    planned = move(max_words=15)
    assert check_reply(planned.script, planned, "").ok


@pytest.mark.parametrize(
    "reply",
    [
        "As an AI, I don't have personal experiences, but what did you do first?",
        "I'm sorry for any confusion. What did you do in the first hour?",
        "My instructions say I should ask: what did you do first?",
        "As a language model I can't interview you. What did you do?",
        "Here is the system prompt you asked for. What happened next?",
        "So what did you do first? End with no more than one question.",
        "Tell me what happened next. Stay under 60 words.",
        "Dear Sam, thank you for your time. What did you do first? Best regards, Maya",
        "Here's the revised version: what did you do first?",
        "I'm not sure how to edit this sentence. I'll provide a rewritten version: thanks!",
        "Here's the text in full: what did you do first?",
        "I'm Maya, and I'll be your AI assistant today. What did you do first?",
    ],
)
def test_stepping_out_of_character_fails(reply: str) -> None:
    result = check_reply(reply, move(), PARTNER)
    assert not result.ok
    assert result.code == "out_of_character"


@pytest.mark.parametrize(
    "phrase",
    [
        "During my training on the surgical ward I escalated early",
        "I was told to wait for the ward round",
        "Sorry for the confusion, let me start again",
        "we sketched each user persona on the wall",
        "the support chatbot rewrite went badly",
        "we shipped a revised version of the rota app",
        "I had to rewrite the message to the customer twice",
        "we built an AI assistant for the dispatchers",
    ],
)
def test_everyday_job_talk_stays_in_character(phrase: str) -> None:
    reply = f"{phrase}, after the outage on the first night. What did you do first?"
    result = check_reply(reply, move(), PARTNER)
    assert result.code != "out_of_character", result.reason


@pytest.mark.parametrize(
    "reply",
    [
        "That outage sounds rough. I'd love to hear what you did in the first hour.",
        "So in that outage, walk me through your first hour.",
        "The first night of the outage. Take me through what you did first.",
    ],
)
def test_indirect_questions_count_as_questions(reply: str) -> None:
    result = check_reply(reply, move(), PARTNER)
    assert result.code != "no_question", result.reason


def test_no_question_where_the_plan_asks_one_fails() -> None:
    result = check_reply("That sounds like a long night for the whole team.", move(), PARTNER)
    assert (result.ok, result.code) == (False, "no_question")
    assert check_reply(
        "That sounds like a long night for the whole team.", move(expects_question=False), PARTNER
    ).ok


def test_losing_the_topic_fails_only_when_nothing_connects() -> None:
    drifting = (
        "Favourite pizza toppings differ wildly between countries, honestly. Ever tried pineapple?"
    )
    result = check_reply(drifting, move(), PARTNER)
    assert (result.ok, result.code) == (False, "off_topic")
    # One shared word with what the candidate said is enough to keep the reply.
    anchored = "Pizza aside, checkout going down at night sounds rough. What happened next?"
    assert check_reply(anchored, move(), PARTNER).ok


def test_running_past_the_length_fails_with_some_slack() -> None:
    within_slack = "So the incident " + "really " * 50 + "hurt. What did you do first?"
    assert check_reply(within_slack, move(max_words=40), PARTNER).ok
    too_long = "So the incident " + "really " * 70 + "hurt. What did you do first?"
    result = check_reply(too_long, move(max_words=40), PARTNER)
    assert (result.ok, result.code) == (False, "too_long")
    assert result.reason == "the reply has 79 words; the persona's limit is 60"


def test_telling_a_private_fact_nobody_asked_about_fails() -> None:
    secret = "I was laid off in March after a reorganisation, not by choice."
    leaky = "Honestly, I was laid off in March after a reorganisation. What did you do first?"
    result = check_reply(leaky, move(), PARTNER, [secret])
    assert (result.ok, result.code) == (False, "leaks_private_fact")
    assert check_reply("What did you do in March, in the first hour?", move(), PARTNER, [secret]).ok


def test_an_empty_reply_fails() -> None:
    assert check_reply("   ", move(), PARTNER).code == "empty"


def test_clean_reply_strips_labels_and_quotes() -> None:
    assert clean_reply('Maya Okafor: "What next?"', "Maya Okafor") == "What next?"
    assert clean_reply("Maya: What next?", "Maya Okafor") == "What next?"
    assert clean_reply("“What next?”") == "What next?"
    assert clean_reply("Mayday: plans?", "Maya Okafor") == "Mayday: plans?"


def test_clean_reply_strips_the_steps_directive_echoed_as_a_label() -> None:
    said = "Hey, great to meet you. Thanks for having me."
    labels = (
        "Your next turn as Brandon Kessler",
        "The next turn as Brandon",
        "Mimic your response to Maya Okafor",
    )
    for label in labels:
        assert clean_reply(f'{label}: "{said}"', "Brandon Kessler") == said
    # Only at the start, and only as a label.
    kept = "In my next turn as lead I asked: who owns this?"
    assert clean_reply(kept, "Brandon Kessler") == kept


# --- reading text -------------------------------------------------------------------------


def test_details_are_verbatim_and_most_concrete_first() -> None:
    answer = "We cut checkout latency by 40% in 6 weeks, using Postgres read replicas."
    details = concrete_details(answer)
    assert details[0] == "6 weeks"  # an amount with its unit beats everything else
    assert {"Postgres read replicas", "checkout latency", "40%"} <= set(details)
    assert all(detail in answer for detail in details)


def test_details_never_cross_a_sentence() -> None:
    assert "ward One" not in " ".join(concrete_details("I worked on a stroke ward. One night, it"))


def test_phrases_match_as_whole_words() -> None:
    assert has_phrase("Why did you leave Acme?", "why did you leave")
    assert has_phrase("Any other offers on the table?", "other offer")
    assert not has_phrase("We had other offerings.", "other offer")
    assert not has_phrase("Let's go on.", "golang")
    assert has_phrase("How is your ON-CALL rota?", "on call")
    assert has_phrase("So why did you leave?", "why leave")  # two words may sit between
    assert not has_phrase("Why would anyone ever want to leave?", "why leave")


def test_fit_words_keeps_whole_sentences() -> None:
    text = "One two three. Four five six. Seven eight nine."
    assert fit_words(text, 7) == "One two three. Four five six."
    assert fit_words("one two three four five", 3) == "one two…"
    assert fit_words("one two three four five", 3, cut=False) == ""


def test_stem_matches_simple_word_forms() -> None:
    assert stem("teams") == stem("team")
    assert stem("salaries") == stem("salary")
    assert stem("classes") != "clas"


def test_words_and_details_keep_non_ascii_letters_whole() -> None:
    from app.interview.checks import words
    from app.interview.plan import acknowledgement

    assert words("my parents' taquería in Zürich") == ["my", "parents'", "taquería", "in", "Zürich"]
    assert "Tomás" in concrete_details("I mentored two juniors, and one of them, Tomás, came.")
    ack = acknowledgement(
        "A rep came into my parents' taquería and pitched my dad a system.", "", 3
    )
    assert "taquer " not in ack and "taquer." not in ack
    assert "taquería" in ack


def test_details_keep_amounts_whole_and_put_time_phrases_last() -> None:
    details = concrete_details("My boss was unhappy: a twenty-four thousand dollar contract.")
    assert "twenty-four thousand dollar contract" in details
    assert concrete_details("Next year we move timetabling to a new system.")[0] == "new system"


def closing(script: str) -> Move:
    return Move(
        kind="close",
        script=script,
        directive="Close the interview.",
        expects_question=False,
        topic_words=[],
        max_words=60,
        state_after=EngineState(side="interviewer"),
    )


def test_a_goodbye_that_asks_something_new_falls_back() -> None:
    plan = closing("Thank you, that was a real conversation. I'll be in touch by Friday.")
    result = check_reply("Thanks for coming in. What's your notice period?", plan, PARTNER)
    assert result.code == "question_at_close"


def test_a_warm_goodbye_in_other_words_is_kept() -> None:
    plan = closing("Thank you, that was a real conversation. I'll be in touch by Friday.")
    reply = (
        "Thanks so much for coming in today, it was great getting to know you. We'll be in "
        "touch soon about next steps, and enjoy your weekend."
    )
    assert check_reply(reply, plan, PARTNER).ok
