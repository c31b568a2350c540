from __future__ import annotations

from pathlib import Path

import pytest

from haven.core import limits
from haven.core.config import Config, ConfigError, Registration, load


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "haven.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_env_or_flags() -> None:
    config = load(environ={})
    assert config.host == "127.0.0.1"
    assert config.port == 8080
    assert config.data_dir == Path("haven-data")
    assert config.db is None
    assert config.redis is None
    assert config.registration is Registration.OPEN
    assert config.message_ttl_seconds == limits.MESSAGE_TTL_SECONDS
    assert config.max_ciphertext_bytes == limits.MAX_CIPHERTEXT_BYTES
    assert config.max_attachment_bytes == limits.MAX_ATTACHMENT_BYTES
    assert config.attachment_ttl_seconds == limits.ATTACHMENT_TTL_SECONDS
    assert config.rate_limits is True
    assert config.poll_seconds == limits.STREAM_POLL_SECONDS
    assert config.log_level == "info"


def test_process_environment_is_read_when_no_mapping_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HAVEN_PORT", "9123")
    assert load().port == 9123


def test_toml_file_sets_values(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        'host = "0.0.0.0"\nport = 9000\nregistration = "invite"\nrate_limits = false\n'
        'redis = "redis://cache:6379/0"\nlog_level = "DEBUG"\n',
    )
    config = load(file=path, environ={})
    assert config.host == "0.0.0.0"
    assert config.port == 9000
    assert config.registration is Registration.INVITE
    assert config.rate_limits is False
    assert config.redis == "redis://cache:6379/0"
    assert config.log_level == "debug"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'port = 9000\nhost = "10.0.0.1"\n')
    config = load(
        file=path,
        environ={"HAVEN_PORT": "9500", "HAVEN_RATE_LIMITS": "false", "HAVEN_DATA_DIR": "/srv/h"},
    )
    assert config.port == 9500
    assert config.rate_limits is False
    assert config.data_dir == Path("/srv/h")
    assert config.host == "10.0.0.1"  # not in the environment: the file still applies


def test_unrelated_environment_variables_are_ignored() -> None:
    config = load(environ={"PORT": "1", "HAVEN_NOT_A_SETTING": "x", "haven_port": "2"})
    assert config.port == 8080


def test_explicit_overrides_win_over_env_and_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 9000\n")
    config = load(
        file=path,
        environ={"HAVEN_PORT": "9500", "HAVEN_HOST": "10.0.0.2"},
        overrides={"port": 9999, "host": None},
    )
    assert config.port == 9999
    # A None override means "flag not given": the lower layers still apply.
    assert config.host == "10.0.0.2"


def test_unknown_key_in_toml_names_key_and_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "prot = 9000\n")
    with pytest.raises(ConfigError) as raised:
        load(file=path, environ={})
    message = str(raised.value)
    assert "prot" in message
    assert str(path) in message
    assert "unknown setting" in message


def test_bad_value_from_env_names_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ={"HAVEN_PORT": "abc"})
    message = str(raised.value)
    assert "port" in message
    assert "environment variable HAVEN_PORT" in message


def test_bad_value_from_file_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 70000\n")
    with pytest.raises(ConfigError) as raised:
        load(file=path, environ={})
    assert "port" in str(raised.value)
    assert str(path) in str(raised.value)


def test_bad_override_names_the_flag() -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ={}, overrides={"message_ttl_seconds": 1})
    assert "--message-ttl-seconds" in str(raised.value)


def test_every_bad_key_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ={"HAVEN_PORT": "abc", "HAVEN_LOG_LEVEL": "loud"})
    assert "HAVEN_PORT" in str(raised.value)
    assert "HAVEN_LOG_LEVEL" in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as raised:
        load(file=missing, environ={})
    assert str(missing) in str(raised.value)


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as raised:
        load(file=path, environ={})
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///tmp/haven.sqlite3",
        "sqlite+aiosqlite:///tmp/haven.sqlite3",
        "postgresql://haven@db/haven",
        "postgresql+asyncpg://haven@db/haven",
        "postgres://haven@db/haven",
    ],
)
def test_supported_database_urls_are_accepted(url: str) -> None:
    config = load(environ={"HAVEN_DB": url})
    assert config.db == url
    assert config.database_url == url


@pytest.mark.parametrize("url", ["mysql://root@db/haven", "haven.sqlite3", ""])
def test_unsupported_database_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ={"HAVEN_DB": url})
    assert "db (environment variable HAVEN_DB)" in str(raised.value)
    assert "sqlite:// or postgresql://" in str(raised.value)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache:6380/1", "unix:///run/redis.sock"]
)
def test_redis_urls_are_accepted(url: str) -> None:
    assert load(environ={"HAVEN_REDIS": url}).redis == url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis.internal:6379", "memcached://x"]
)
def test_non_redis_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ={"HAVEN_REDIS": url})
    assert "redis (environment variable HAVEN_REDIS)" in str(raised.value)
    assert "redis://" in str(raised.value)


def test_database_url_defaults_to_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = load(environ={"HAVEN_DATA_DIR": str(data_dir)})
    assert config.database_url == f"sqlite:///{data_dir.resolve() / 'haven.sqlite3'}"


def test_default_database_path_is_absolute_even_for_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load(environ={"HAVEN_DATA_DIR": "rel"})
    path = Path(config.database_url.removeprefix("sqlite:///"))
    assert path.is_absolute()
    assert path == tmp_path.resolve() / "rel" / "haven.sqlite3"


def test_poll_seconds_accepts_fractions_and_refuses_zero() -> None:
    assert load(environ={"HAVEN_POLL_SECONDS": "0.25"}).poll_seconds == 0.25
    with pytest.raises(ConfigError, match="HAVEN_POLL_SECONDS"):
        load(environ={"HAVEN_POLL_SECONDS": "0"})


def test_invalid_registration_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="HAVEN_REGISTRATION"):
        load(environ={"HAVEN_REGISTRATION": "closed"})


def test_config_is_immutable() -> None:
    config = load(environ={})
    with pytest.raises(ValueError, match="frozen"):
        config.port = 1  # type: ignore[misc]


def test_config_model_rejects_unknown_fields_directly() -> None:
    with pytest.raises(ValueError, match="extra"):
        Config.model_validate({"bogus": 1})


def test_tls_certificate_and_key_go_together(tmp_path: Path) -> None:
    assert Config().scheme == "http"
    assert not Config().serves_tls
    assert Config(tls=True).scheme == "https"
    both = load(overrides={"tls_cert": tmp_path / "c.pem", "tls_key": tmp_path / "k.pem"})
    assert both.serves_tls
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load(overrides={"tls_cert": tmp_path / "c.pem"})
