"""Imports point down the layers: the domain knows nothing of the web, the database or SDKs."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

DOMAIN_BANS = (
    "fastapi", "starlette", "sqlmodel", "sqlalchemy", "openai",
    "app.api", "app.store", "app.service", "app.services", "app.main",
)
FORBIDDEN = {
    "interview": DOMAIN_BANS,
    "grading": DOMAIN_BANS,
    "llm": ("fastapi", "sqlmodel", "sqlalchemy", "app.api", "app.store", "app.service",
            "app.services"),
    "store": ("fastapi", "openai", "app.api", "app.service"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((APP / package).rglob("*.py")):
        for name in imported_modules(path):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(APP.parent)} imports {name}")
    return found


def test_domain_and_infrastructure_import_downwards_only() -> None:
    problems = [v for package in FORBIDDEN for v in violations(package)]
    assert problems == []


def test_only_the_openai_backend_imports_openai() -> None:
    users = [
        str(path.relative_to(APP.parent))
        for path in sorted(APP.rglob("*.py"))
        if any(n == "openai" or n.startswith("openai.") for n in imported_modules(path))
    ]
    assert users in ([], ["app/llm/openai_compatible.py"])


def test_the_checker_catches_a_bad_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from fastapi import FastAPI\nimport sqlmodel\n")
    assert imported_modules(bad) == {"fastapi", "sqlmodel"}
