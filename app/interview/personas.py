"""The persona catalogue: every persona file in a folder, validated."""

from __future__ import annotations

import builtins
from pathlib import Path

from app.content import load_dir, load_file
from app.interview.errors import ContentError, NotFound
from app.interview.models import Persona, Side


def load_persona(path: Path) -> Persona:
    return load_file(Persona, path)


class PersonaCatalog:
    def __init__(self, personas: dict[str, Persona]) -> None:
        self._personas = dict(sorted(personas.items()))

    @classmethod
    def from_dir(cls, folder: Path, *, strict: bool = True) -> PersonaCatalog:
        personas, errors = load_dir(Persona, folder)
        if errors and strict:
            raise ContentError("\n".join(errors))
        return cls(personas)

    def get(self, persona_id: str) -> Persona:
        try:
            return self._personas[persona_id]
        except KeyError:
            raise NotFound("persona", persona_id, list(self._personas)) from None

    def list(self, side: Side | None = None) -> list[Persona]:
        return [p for p in self._personas.values() if side is None or p.side == side]

    def ids(self) -> builtins.list[str]:
        return list(self._personas)

    def __contains__(self, persona_id: object) -> bool:
        return persona_id in self._personas

    def __len__(self) -> int:
        return len(self._personas)
