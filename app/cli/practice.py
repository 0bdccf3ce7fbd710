"""Commands: ``rapport practice`` (an interview in the terminal) and ``rapport simulate``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from app.cli.base import cli
from app.config import Settings
from app.interview.checks import questions_in, word_count
from app.interview.engine import Engine, Final, Move, Token
from app.interview.errors import RapportError
from app.interview.models import Persona, Turn
from app.interview.personas import PersonaCatalog, load_persona
from app.interview.simulate import MAX_TURNS, MIN_TURNS, simulate
from app.llm.base import ChatModel, ModelError
from app.llm.scripted import ScriptedModel

END_COMMANDS = {"/end", "/quit", "/exit"}


class BackendChoice(StrEnum):
    scripted = "scripted"
    openai = "openai"
    local = "local"


BackendOption = Annotated[
    BackendChoice | None,
    typer.Option("--backend", help="scripted, openai or local (default: RAPPORT_LLM, else auto)."),
]
PersonasDir = Annotated[
    Path | None,
    typer.Option("--personas-dir", help="Folder of persona files (default: settings)."),
]


@dataclass
class _Models:
    persona: ChatModel
    description: str
    close: Callable[[], Awaitable[None]]


def _settings(backend: BackendChoice | None) -> Settings:
    return Settings(llm=backend.value) if backend else Settings()


def _build_models(settings: Settings, console: Console) -> _Models:
    """The configured models, or the scripted model when no model factory is installed."""
    try:
        from app.llm.factory import build_models
    except ImportError:
        delay = 0.02 if console.is_terminal else 0.0
        scripted = ScriptedModel(token_delay=delay)
        return _Models(scripted, "offline scripted mode", scripted.aclose)
    models = build_models(settings)
    return _Models(models.persona, models.description, models.aclose)


def _load(persona_id: str, folder: Path) -> Persona:
    path = folder / f"{persona_id}.yaml"
    if path.is_file():
        return load_persona(path)
    # Unknown id: let the catalogue name the valid ones, even if some other file is broken.
    return PersonaCatalog.from_dir(folder, strict=False).get(persona_id)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(2)


async def _speak(
    console: Console, engine: Engine, model: ChatModel, turns: list[Turn], move: Move
) -> Turn:
    """Stream one reply to the terminal; show the plan's wording when the model's fails a check."""
    console.print(f"[bold cyan]{escape(engine.persona.name)}:[/] ", end="")
    final: Final | None = None
    try:
        async for event in engine.stream_reply(model, turns, move):
            if isinstance(event, Token):
                console.print(event.text, end="", markup=False, highlight=False)
                console.file.flush()
            else:
                final = event
    except ModelError as exc:
        console.print(f"\n[red]The model failed: {escape(exc.message)}[/] Using the plan instead.")
        console.print(move.script, markup=False, highlight=False)
        return Turn(engine.persona.side, move.script, {"fallback": True, "move_kind": move.kind})
    console.print()
    if final is None:
        raise RuntimeError("the reply stream ended without a final reply")
    if final.fallback:
        console.print(
            f"[dim](that reply {escape(final.fallback_reason or 'failed a check')}; "
            "the plan's wording instead:)[/]"
        )
        console.print(final.text, markup=False, highlight=False)
    return Turn(
        engine.persona.side, final.text, {"fallback": final.fallback, "move_kind": final.move_kind}
    )


def _read_line(console: Console) -> str | None:
    """One line the person typed, or None at the end of input."""
    console.print("[bold green]you>[/] ", end="")
    console.file.flush()
    line = sys.stdin.readline()
    if not line:
        console.print()
        return None
    if not sys.stdin.isatty():
        # Piped input is not echoed by a terminal; print it so the transcript reads in order.
        console.print(line.rstrip("\n"), markup=False, highlight=False)
    return line.strip()


def _summary(console: Console, persona: Persona, turns: list[Turn], description: str) -> None:
    human = persona.human_side
    mine = [t for t in turns if t.speaker == human]
    theirs = [t for t in turns if t.speaker != human]
    my_words = sum(word_count(t.text) for t in mine)
    all_words = my_words + sum(word_count(t.text) for t in theirs)
    share = round(100 * my_words / all_words) if all_words else 0
    questions = sum(len(questions_in(t.text)) for t in mine)
    fallbacks = sum(1 for t in theirs if t.meta.get("fallback"))
    console.rule("Summary")
    console.print(f"{len(turns)} turns with {escape(persona.name)} ({escape(persona.role)}).")
    console.print(
        f"You spoke {share}% of the words in {len(mine)} turns and asked "
        f"{questions} question{'s' if questions != 1 else ''}."
    )
    console.print(
        f"Replies came from {escape(description)}; {fallbacks} of {len(theirs)} "
        "fell back to the plan's wording."
    )


async def _practice(persona: Persona, settings: Settings, console: Console) -> None:
    models = _build_models(settings, console)
    engine = Engine(persona, window=settings.transcript_window)
    state = engine.initial_state()
    turns: list[Turn] = []
    console.print(f"[dim]Backend: {escape(models.description)}. Type /end to finish.[/]")
    if persona.side == "candidate":
        console.print(
            f"You are interviewing {escape(persona.name)}, {escape(persona.role)}. "
            "Ask your first question."
        )
    try:
        opening = engine.opening(state)
        if opening is not None:
            turns.append(await _speak(console, engine, models.persona, turns, opening))
            state = opening.state_after
        while not state.closed:
            line = _read_line(console)
            ending = line is None or line.lower() in END_COMMANDS
            if line and not ending:
                if len(line) > settings.max_turn_chars:
                    console.print(
                        f"[red]That message is {len(line)} characters; the limit is "
                        f"{settings.max_turn_chars}. Try a shorter one.[/]"
                    )
                    continue
                turns.append(Turn(persona.human_side, line))
            elif not ending:
                continue
            move = engine.next_move(turns, state, ending=ending)
            turns.append(await _speak(console, engine, models.persona, turns, move))
            state = move.state_after
    finally:
        await models.close()
    _summary(console, persona, turns, models.description)


@cli.command()
def practice(
    persona: Annotated[
        str, typer.Option("--persona", "-p", help="The persona id to practise with.")
    ],
    backend: BackendOption = None,
    personas_dir: PersonasDir = None,
) -> None:
    """Practise an interview in the terminal: the persona's replies stream as they are written."""
    console = Console(highlight=False, soft_wrap=True)
    settings = _settings(backend)
    try:
        chosen = _load(persona, personas_dir or settings.personas_dir)
        asyncio.run(_practice(chosen, settings, console))
    except (RapportError, ModelError) as exc:
        raise _fail(exc.message) from exc


@cli.command(name="simulate")
def simulate_command(
    interviewer: Annotated[str, typer.Option("--interviewer", help="An interviewer persona id.")],
    candidate: Annotated[str, typer.Option("--candidate", help="A candidate persona id.")],
    turns: Annotated[
        int, typer.Option("--turns", min=MIN_TURNS, max=MAX_TURNS, help="Turns to run at most.")
    ] = 12,
    backend: BackendOption = None,
    personas_dir: PersonasDir = None,
) -> None:
    """Let two personas interview each other and print the transcript."""
    console = Console(highlight=False, soft_wrap=True)
    settings = _settings(backend)
    folder = personas_dir or settings.personas_dir
    try:
        asking, answering = _load(interviewer, folder), _load(candidate, folder)
        transcript = asyncio.run(_simulate(asking, answering, turns, settings, console))
    except (RapportError, ModelError) as exc:
        raise _fail(exc.message) from exc
    fallbacks = sum(1 for t in transcript if t.meta.get("fallback"))
    console.rule()
    console.print(f"{len(transcript)} turns; {fallbacks} fell back to the plan's wording.")


async def _simulate(
    asking: Persona, answering: Persona, turns: int, settings: Settings, console: Console
) -> list[Turn]:
    models = _build_models(settings, console)
    if isinstance(models.persona, ScriptedModel):
        # The word-by-word delay is for watching a reply stream; a transcript has no use for it.
        models.persona.token_delay = 0.0
    names = {"interviewer": asking.name, "candidate": answering.name}
    console.print(f"[dim]Backend: {escape(models.description)}[/]")

    def show(turn: Turn) -> None:
        mark = " [dim](plan)[/]" if turn.meta.get("fallback") else ""
        console.print(f"\n[bold]{escape(names[turn.speaker])}[/] ({turn.speaker}){mark}")
        console.print(turn.text, markup=False, highlight=False)

    try:
        # One model serves both sides: a local model is loaded once, not twice.
        return await simulate(
            asking,
            answering,
            turns=turns,
            interviewer_model=models.persona,
            candidate_model=models.persona,
            window=settings.transcript_window,
            on_turn=show,
        )
    finally:
        await models.close()
