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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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
    request_head_seconds: float = Field(
        default=limits.REQUEST_HEAD_SECONDS,
        gt=0,
        le=300,
        description="Seconds a client gets to send a request's line and headers (slowloris)",
    )
    log_level: str = "info"
    tls: bool = Field(
        default=False,
        description="Serve HTTPS; with no tls_cert/tls_key a self-signed certificate is made "
        "in data_dir and clients pin it",
    )
    tls_cert: Path | None = Field(default=None, description="PEM certificate (chain) for HTTPS")
    tls_key: Path | None = Field(default=None, description="PEM private key for tls_cert")

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

    @model_validator(mode="after")
    def _tls_pair(self) -> Config:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self

    @property
    def serves_tls(self) -> bool:
        return self.tls or self.tls_cert is not None

    @property
    def scheme(self) -> str:
        return "https" if self.serves_tls else "http"

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{(self.data_dir / 'haven.sqlite3').resolve()}"


def _describe(error: ValidationError, source: Mapping[str, str]) -> str:
    lines = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown setting"
        if not problem["loc"]:  # a rule across settings: the message names them
            lines.append(message)
            continue
        key = ".".join(str(part) for part in problem["loc"])
        lines.append(f"{key} ({source.get(key, 'configuration')}): {message}")
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
