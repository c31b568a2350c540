"""Server configuration: defaults < TOML file < `HAVEN_*` environment variables < CLI flags.

Every key is validated; a bad value fails start-up with a message naming the key and where it
came from, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from haven.core import limits

ENV_PREFIX = "HAVEN_"


class Registration(StrEnum):
    OPEN = "open"
    INVITE = "invite"


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key and the source."""


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Path("haven-data")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    db: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file in data_dir"
    )
    redis: str | None = Field(default=None, description="redis:// URL for scale-out wake-ups")
    registration: Registration = Registration.OPEN
    message_ttl_seconds: int = Field(default=limits.MESSAGE_TTL_SECONDS, ge=60)
    max_ciphertext_bytes: int = Field(default=limits.MAX_CIPHERTEXT_BYTES, ge=1, le=16 * 1024**2)
    max_attachment_bytes: int = Field(default=limits.MAX_ATTACHMENT_BYTES, ge=1, le=2 * 1024**3)
    attachment_ttl_seconds: int = Field(default=limits.ATTACHMENT_TTL_SECONDS, ge=60)
    rate_limits: bool = True
    poll_seconds: float = Field(
        default=limits.STREAM_POLL_SECONDS,
        gt=0,
        le=3600,
        description="How often a waiting stream re-checks its queue without a wake-up",
    )
    log_level: str = "info"

    @field_validator("db")
    @classmethod
    def _db_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("redis")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{(self.data_dir / 'haven.sqlite3').resolve()}"


def _describe(error: ValidationError, source: Mapping[str, str]) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(config)"
        where = source.get(key, "configuration")
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{key} ({where}): {message}")
    return "invalid configuration: " + "; ".join(lines)


def load(
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration from the layers, naming the bad key on failure."""
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    if file is not None:
        try:
            with file.open("rb") as handle:
                from_file = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {file} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
        values.update(from_file)
        source.update({key: str(file) for key in from_file})
    env = os.environ if environ is None else environ
    for key in Config.model_fields:
        name = ENV_PREFIX + key.upper()
        if name in env:
            values[key] = env[name]
            source[key] = f"environment variable {name}"
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            source[key] = f"--{key.replace('_', '-')}"
    try:
        return Config.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
