"""Small personas built in code, so engine tests don't depend on the shipped content files."""

from __future__ import annotations

from typing import Any

from app.interview.engine import Engine, Move
from app.interview.models import Persona, Turn


def interviewer(**overrides: Any) -> Persona:
    data: dict[str, Any] = {
        "id": "test-interviewer",
        "side": "interviewer",
        "name": "Maya Okafor",
        "role": "Engineering Manager",
        "company": "Lumen Logistics",
        "goal": "hire a backend engineer who will own the routing service",
        "traits": ["warm", "curious"],
        "style": {"formality": "casual", "max_words": 60, "voice": "short sentences"},
        "agenda": [
            {
                "phase": "story",
                "topic": "career-story",
                "ask": "How did you end up in backend engineering?",
                "follow_ups": ["What was the first system that felt properly yours?"],
                "keywords": ["started", "first", "moved", "team", "project"],
            },
            {
                "phase": "topic",
                "topic": "ownership",
                "ask": "Tell me about a service you owned in production.",
                "follow_ups": [
                    "What did you personally do in the first hour of the incident?",
                    "What changed afterwards because of you?",
                ],
                "keywords": ["paged", "incident", "rollback", "on call", "monitoring"],
            },
            {
                "phase": "vision",
                "topic": "live-routing",
                "share": "By 2027 we want to re-plan every van live during the day.",
                "ask": "What would worry you about that, and where would you start?",
                "keywords": ["latency", "measure", "drivers", "cache"],
            },
            {
                "phase": "questions",
                "ask": "Your turn: what would you like to know about us?",
            },
        ],
        "hidden": {
            "concerns": ["the last two senior hires left within a year"],
            "facts": [
                {
                    "text": "Maya's team is on call one week in four, and the pager went off "
                    "31 times last quarter.",
                    "triggers": ["on call", "on-call", "pager", "out of hours"],
                }
            ],
        },
        "facts": {
            "team": "There are six engineers on routing, four of them backend, plus me.",
            "stack": "We run Go services on PostgreSQL with a Python route optimiser.",
            "salary": "The band for this role is 78,000 to 92,000 euros plus options.",
        },
        "first_message": "Hi, I'm Maya and I run the routing team. Thanks for making time.",
        "closing_message": "Thank you, that was a good conversation. You'll hear from us by "
        "Thursday.",
    }
    data.update(overrides)
    return Persona.model_validate(data)


def candidate(**overrides: Any) -> Persona:
    data: dict[str, Any] = {
        "id": "test-candidate",
        "side": "candidate",
        "name": "Sam Patel",
        "role": "Senior Backend Engineer",
        "company": "Parcelly",
        "tendency": "balanced",
        "style": {"formality": "neutral", "max_words": 80},
        "stories": [
            {
                "title": "the checkout outage",
                "topics": ["incident", "ownership", "on call"],
                "text": "We were paged at 3 am when checkout latency hit 9 seconds. I rolled "
                "back the release within 20 minutes. We added a canary stage afterwards and "
                "the outages stopped.",
            },
            {
                "title": "the pricing disagreement",
                "topics": ["conflict", "stakeholder"],
                "text": "Our finance lead wanted nightly pricing batches. We disagreed, so we "
                "ran a two-week trial with live prices. Conversion rose 4 percent and finance "
                "signed off.",
            },
            {
                "title": "switching careers",
                "topics": ["career", "journey", "background"],
                "text": "I started as a chemistry teacher in Leeds. Our school timetable "
                "tool kept breaking, so I rewrote it in Python. That project got me my first "
                "developer job.",
            },
        ],
        "hidden": {
            "concerns": ["worried the role is mostly maintenance"],
            "facts": [
                {
                    "text": "I was laid off in March after a reorganisation, not by choice.",
                    "triggers": ["why did you leave", "laid off", "layoff", "reason for leaving"],
                },
                {
                    "text": "I have a competing offer from a bank that expires on Friday.",
                    "triggers": ["other offers", "competing offer", "other processes"],
                },
            ],
        },
        "questions_to_ask": [
            "What would the first big project for this hire be?",
            "How often is the team paged outside working hours?",
        ],
        "first_message": "Hi, thanks for having me. I'm Sam, a backend engineer from Leeds.",
        "closing_message": "Thanks so much for your time; I enjoyed this.",
    }
    data.update(overrides)
    return Persona.model_validate(data)


def say(*pairs: tuple[str, str]) -> list[Turn]:
    """A transcript from (speaker, text) pairs: ``say(("candidate", "Hi"), ...)``."""
    return [Turn(speaker, text) for speaker, text in pairs]  # type: ignore[arg-type]


class Interview:
    """Drive one engine turn by turn, as the service does: the human speaks, the persona moves."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.state = engine.initial_state()
        self.turns: list[Turn] = []
        opening = engine.opening(self.state)
        if opening is not None:
            self._said(opening)

    def _said(self, move: Move) -> Move:
        self.turns.append(Turn(self.engine.persona.side, move.script))
        self.state = move.state_after
        return move

    def human(self, text: str, *, ending: bool = False) -> Move:
        self.turns.append(Turn(self.engine.persona.human_side, text))
        return self._said(self.engine.next_move(self.turns, self.state, ending=ending))


FULL_STORY = (
    "I started as a chemistry teacher in Leeds. Our timetable tool kept breaking, so I "
    "rewrote it in Python over one summer, and that project got me my first developer job."
)
