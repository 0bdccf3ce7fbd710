"""The Typer application that every command module registers on."""

from __future__ import annotations

import typer

cli = typer.Typer(
    name="rapport",
    help="Rapport: practise either side of the interview table against an AI.",
    no_args_is_help=True,
    add_completion=False,
)
