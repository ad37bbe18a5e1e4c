from __future__ import annotations

import pytest

from tradestore.config import DEFAULT_URL, mask_text, mask_url, parse_url, resolve_url, sqlite_path
from tradestore.errors import ConfigurationError


def test_explicit_url_wins_over_environment() -> None:
    env = {"TRADESTORE_DATABASE_URL": "sqlite:///a.db", "DATABASE_URL": "sqlite:///b.db"}
    assert resolve_url("sqlite:///explicit.db", env).database == "explicit.db"


def test_tradestore_variable_wins_over_database_url() -> None:
    env = {"TRADESTORE_DATABASE_URL": "sqlite:///a.db", "DATABASE_URL": "sqlite:///b.db"}
    assert resolve_url(None, env).database == "a.db"


def test_database_url_then_default() -> None:
    assert resolve_url(None, {"DATABASE_URL": "sqlite:///b.db"}).database == "b.db"
    assert resolve_url(None, {}).render_as_string() == DEFAULT_URL
    assert resolve_url(None, {"TRADESTORE_DATABASE_URL": ""}).render_as_string() == DEFAULT_URL


def test_postgres_scheme_is_normalised_to_psycopg2() -> None:
    url = parse_url("postgres://bot:pw@db.example:5432/trading")
    assert url.drivername == "postgresql+psycopg2"
    assert parse_url("postgresql://h/db").drivername == "postgresql+psycopg2"


@pytest.mark.parametrize(
    "raw", ["mysql://root@localhost/x", "not a url", "postgresql://h:notaport/db"]
)
def test_unusable_urls_raise_configuration_error(raw: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_url(raw)


def test_password_is_masked_in_urls_and_free_text() -> None:
    url = parse_url("postgresql://bot:s3cr%40t@db:5432/trading")
    assert "s3cr" not in mask_url(url)
    assert "***" in mask_url(url)
    message = "could not connect to postgresql+psycopg2://bot:hunter2@db:5432/x (timeout)"
    assert "hunter2" not in mask_text(message)
    assert "bot:***@db" in mask_text(message)


def test_error_for_unsupported_backend_masks_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_url("mysql://root:topsecret@localhost/x")
    assert "topsecret" not in str(info.value)


def test_sqlite_path() -> None:
    assert str(sqlite_path(parse_url("sqlite:///data/x.db"))) == "data/x.db"
    assert sqlite_path(parse_url("sqlite://")) is None
    assert sqlite_path(parse_url("sqlite:///:memory:")) is None
    assert sqlite_path(parse_url("postgresql://h/db")) is None
