"""Commands for content files: ``rapport check`` and ``rapport personas list|import``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli.base import cli
from app.config import Settings
from app.content import load_dir
from app.grading.models import Rubric
from app.grading.rubrics import validate_rubric
from app.interview.cards import import_card
from app.interview.errors import ContentError
from app.interview.models import Persona, Side

personas_cli = typer.Typer(help="List and import personas.", no_args_is_help=True)
cli.add_typer(personas_cli, name="personas")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class SideChoice(StrEnum):
    interviewer = "interviewer"
    candidate = "candidate"


PersonasDir = Annotated[
    Path | None,
    typer.Option("--personas-dir", help="Folder of persona files (default: settings)."),
]
RubricsDir = Annotated[
    Path | None,
    typer.Option("--rubrics-dir", help="Folder of rubric files (default: settings)."),
]


def _folders(personas_dir: Path | None, rubrics_dir: Path | None = None) -> tuple[Path, Path]:
    settings = Settings()
    return personas_dir or settings.personas_dir, rubrics_dir or settings.rubrics_dir


def cross_check(personas: dict[str, Persona], rubrics: dict[str, Rubric]) -> list[str]:
    """Errors where a persona names a rubric that is missing or grades the wrong side."""
    problems = []
    for persona in personas.values():
        for index, rubric_id in enumerate(persona.rubrics):
            where = f"{persona.id}.yaml: rubrics[{index}]"
            rubric = rubrics.get(rubric_id)
            if rubric is None:
                valid = ", ".join(sorted(rubrics))
                problems.append(f"{where}: unknown rubric '{rubric_id}' (valid ids: {valid})")
            elif rubric.applies_to != persona.human_side:
                problems.append(
                    f"{where}: '{rubric_id}' grades the {rubric.applies_to}, but the human "
                    f"opposite this {persona.side} persona is the {persona.human_side}"
                )
    return problems


@cli.command()
def check(personas_dir: PersonasDir = None, rubrics_dir: RubricsDir = None) -> None:
    """Validate every persona and rubric file; exit non-zero on any error."""
    persona_folder, rubric_folder = _folders(personas_dir, rubrics_dir)
    personas, persona_errors = load_dir(Persona, persona_folder)
    rubrics, rubric_errors = load_dir(Rubric, rubric_folder)
    for ident in list(rubrics):
        try:  # conditions and signal names, beyond the schema
            validate_rubric(rubrics[ident], source=str(rubric_folder / f"{ident}.yaml"))
        except ContentError as exc:
            rubric_errors.append(exc.message)
            del rubrics[ident]
    if not personas and not persona_errors:
        persona_errors.append(f"{persona_folder}: no persona files (*.yaml) found")
    links: list[str] = []
    note = ""
    if rubrics:
        links = cross_check(personas, rubrics)
    elif not rubric_errors:
        note = "no rubric files yet, so persona rubric ids were not checked"

    table = Table(title="rapport check")
    table.add_column("content")
    table.add_column("folder")
    table.add_column("valid", justify="right")
    table.add_column("errors", justify="right")
    for kind, folder, good, bad in (
        ("personas", persona_folder, len(personas), len(persona_errors)),
        ("rubrics", rubric_folder, len(rubrics), len(rubric_errors)),
        ("rubric ids", "personas → rubrics", len(personas) if rubrics else 0, len(links)),
    ):
        colour = "red" if bad else "green"
        table.add_row(kind, escape(str(folder)), str(good), f"[{colour}]{bad}[/{colour}]")
    out.print(table)
    if note:
        out.print(f"[yellow]note:[/yellow] {escape(note)}")

    problems = [*persona_errors, *rubric_errors, *links]
    for problem in problems:
        err.print(f"[red]error:[/red] {escape(problem)}", soft_wrap=True)
    if problems:
        err.print(f"[red]{len(problems)} problem(s) found.[/red]")
        raise typer.Exit(1)
    out.print("[green]All content is valid.[/green]")


@personas_cli.command("list")
def list_personas(
    side: Annotated[SideChoice | None, typer.Option("--side", help="Show only this side.")] = None,
    personas_dir: PersonasDir = None,
) -> None:
    """Show the installed personas."""
    folder, _ = _folders(personas_dir)
    personas, errors = load_dir(Persona, folder)
    shown = [p for p in personas.values() if side is None or p.side == side.value]
    table = Table(title=escape(f"Personas in {folder}"))
    for column in ("id", "side", "name", "role", "company", "difficulty", "temperament"):
        table.add_column(column, overflow="fold")
    for persona in shown:
        cells = (persona.id, persona.side, persona.name, persona.role, persona.company)
        table.add_row(*(escape(c) for c in (*cells, persona.difficulty, persona.temperament)))
    out.print(table)
    if errors:
        err.print(
            f"[yellow]{len(errors)} persona file(s) could not be loaded; "
            "run `rapport check` for details.[/yellow]"
        )


@personas_cli.command("import")
def import_persona(
    card: Annotated[Path, typer.Argument(help="A Character Card V2/V3 JSON file.")],
    side: Annotated[
        SideChoice, typer.Option("--side", help="The side this character plays.")
    ] = SideChoice.interviewer,
    persona_id: Annotated[
        str | None, typer.Option("--id", help="Persona id and file name (default: from the name).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing persona.")] = False,
    personas_dir: PersonasDir = None,
) -> None:
    """Turn a Character Card (chara_card_v2 / chara_card_v3) into a persona file."""
    folder, _ = _folders(personas_dir)
    chosen: Side = "candidate" if side is SideChoice.candidate else "interviewer"
    try:
        persona, path = import_card(card, folder, side=chosen, persona_id=persona_id, force=force)
    except ContentError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(f"Imported [bold]{escape(persona.name)}[/bold] as a {persona.side} persona:")
    out.print(escape(str(path)), soft_wrap=True)
