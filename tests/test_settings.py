"""Every setting is documented in .env.example with its real default, and the names hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.config import PROJECT_ROOT, Settings

ENV_EXAMPLE = PROJECT_ROOT / ".env.example"


def env_name(field: str) -> str:
    info = Settings.model_fields[field]
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"RAPPORT_{field.upper()}"


def documented() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def rendered_default(field: str) -> str:
    value = Settings.model_fields[field].default
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value.relative_to(PROJECT_ROOT))
    return str(value)


def test_every_setting_is_documented_with_its_default() -> None:
    docs = documented()
    expected = {env_name(field): rendered_default(field) for field in Settings.model_fields}
    assert set(docs) == set(expected), "add or remove lines in .env.example"
    for name, value in expected.items():
        assert docs[name] == value, f"{name}: documented {docs[name]!r}, default {value!r}"


def test_every_documented_line_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert number > 0 and lines[number - 1].startswith("#"), f"explain {line!r}"


def test_the_example_file_loads_as_it_is(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(ENV_EXAMPLE.read_text())
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.llm is None
    assert settings.database_url == "sqlite:///rapport.db"


def test_names_other_tools_rely_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_LLM", "openai")
    monkeypatch.setenv("RAPPORT_MODEL", "llama3.1:8b")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.llm == "openai"
    assert settings.model == "llama3.1:8b"
    assert settings.effective_judge_model == "llama3.1:8b"
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-test"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///other.db")
    monkeypatch.setenv("RAPPORT_JUDGE_MODEL", "off")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///other.db"
    assert not settings.judge_enabled


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_LLM", "gpt")
    with pytest.raises(ValueError, match="llm"):
        Settings(_env_file=None)  # type: ignore[call-arg]
