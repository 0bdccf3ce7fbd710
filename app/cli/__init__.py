"""The ``rapport`` command line: serve, practice, simulate, check, grade, calibrate, personas."""

from __future__ import annotations

from app.cli import content, grading, practice, server  # noqa: F401  (registers commands)
from app.cli.base import cli


def main() -> None:
    cli()


__all__ = ["cli", "main"]
