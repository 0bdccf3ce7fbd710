"""Settings, read from RAPPORT_* variables (and the usual OPENAI_* ones) with offline defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Backend = Literal["scripted", "openai", "local"]


class Settings(BaseSettings):
    """Every field has a default that works offline with no key; see .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="RAPPORT_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    llm: Backend | None = Field(
        None, description="scripted, openai or local; unset picks local if installed, else scripted"
    )
    model: str = Field("gpt-4o-mini", description="the persona's model name")
    judge_model: str | None = Field(
        None, description="the judge's model; defaults to RAPPORT_MODEL; 'off' grades by signals"
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "RAPPORT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "RAPPORT_OPENAI_BASE_URL")
    )
    local_model: Path | None = Field(None, description="a GGUF file for the local backend")
    scripted_token_delay: float = Field(
        0.02, ge=0, le=2, description="seconds between words of the scripted backend's replies"
    )
    request_timeout: float = Field(60.0, gt=0, description="seconds before a model call gives up")
    max_retries: int = Field(2, ge=0, le=10, description="retries on 429, 5xx and timeouts")
    database_url: str = Field(
        "sqlite:///rapport.db",
        validation_alias=AliasChoices("RAPPORT_DATABASE_URL", "DATABASE_URL"),
    )
    personas_dir: Path = PROJECT_ROOT / "personas"
    rubrics_dir: Path = PROJECT_ROOT / "rubrics"
    api_keys: str = Field("", description="key=user,key=user, or a path to a file of such lines")
    secret_key: SecretStr | None = Field(None, description="signs login cookies")
    max_turn_chars: int = Field(4000, ge=1, le=100_000)
    transcript_window: int = Field(16, ge=2, le=200, description="turns sent to the model")
    cors_origins: str = Field("", description="comma-separated origins; empty keeps CORS closed")
    log_level: str = "info"

    @property
    def judge_enabled(self) -> bool:
        return (self.judge_model or "").strip().lower() != "off"

    @property
    def effective_judge_model(self) -> str:
        return self.judge_model if self.judge_model and self.judge_enabled else self.model
