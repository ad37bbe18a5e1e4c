from __future__ import annotations

import pytest

from tradestore.config import (
    DEFAULT_URL,
    mask_text,
    mask_url,
    parse_url,
    resolve_url,
    secret_fragments,
    split_secret_query,
    sqlite_path,
)
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


SECRET = "Hunter2-xyzzy"


@pytest.mark.parametrize(
    "raw",
    [
        f"postgresql://bot@db:5432/trading?password={SECRET}",
        f"postgresql://bot@db:5432/trading?PASSWORD={SECRET}&sslmode=require",
        f"postgresql://bot@db:5432/trading?sslpassword={SECRET}",
        f"postgresql://bot@db:5432/trading?passfile=/etc/{SECRET}",
        f"postgresql://bot@db:5432/trading?pass%77ord={SECRET}",
        f"postgresql://bot:{SECRET}@db:5432/trading",
        "postgresql://bot:Hunter2%40xyzzy@db:5432/trading",
    ],
)
def test_every_secret_of_a_url_is_masked(raw: str) -> None:
    url = parse_url(raw)
    for rendered in (mask_url(url), mask_url(raw), mask_text(f"connecting to {raw} failed")):
        assert "Hunter2" not in rendered
        assert "xyzzy" not in rendered
        assert "db:5432/trading" in rendered


def test_a_query_string_password_becomes_the_urls_password() -> None:
    url = parse_url(f"postgresql://bot@db/trading?password={SECRET}&sslmode=require")
    assert url.password == SECRET
    assert dict(url.query) == {"sslmode": "require"}
    assert SECRET not in repr(url)  # SQLAlchemy's own rendering now hides it too


def test_secret_query_arguments_leave_the_url_for_the_driver() -> None:
    url = parse_url(f"postgresql://bot@db/trading?sslpassword={SECRET}&sslmode=require")
    clean, secrets = split_secret_query(url)
    assert secrets == {"sslpassword": SECRET}
    assert SECRET not in clean.render_as_string(hide_password=False)
    assert clean.query["sslmode"] == "require"


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("postgresql://bot:Hunter2@xyzzy@db:5432/trading", ["Hunter2", "xyzzy"]),
        ("postgresql://bot:Hunter2/a@xyzzy@db:5432/trading", ["Hunter2", "xyzzy"]),
        ("postgresql://bot@server:Hunter2-xyzzy@db:5432/trading", ["Hunter2"]),  # Azure style
    ],
)
def test_an_unencoded_at_is_refused_without_showing_the_password(
    raw: str, hidden: list[str]
) -> None:
    with pytest.raises(ConfigurationError, match="%40") as info:
        parse_url(raw)
    for part in hidden:
        assert part not in str(info.value)
    assert "db:5432/trading" in str(info.value)
    assert part not in mask_text(f"error at {raw}: refused")


def test_a_libpq_keyword_string_is_refused_without_its_password() -> None:
    for raw in (
        f"host=db dbname=trading user=bot password={SECRET}",
        "host=db dbname=trading password='Hunter2 xyzzy' user=bot",
    ):
        with pytest.raises(ConfigurationError, match="libpq keyword string") as info:
            parse_url(raw)
        assert "Hunter2" not in str(info.value)
        assert "host=db dbname=trading" in str(info.value)


@pytest.mark.parametrize("raw", [f"sqlite:///x.db?password={SECRET}", f"sqlite://:{SECRET}@/x.db"])
def test_sqlite_urls_with_a_password_are_refused(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SQLite databases have no password") as info:
        parse_url(raw)
    assert SECRET not in str(info.value)


def test_free_text_masks_keyword_spellings_and_the_host_an_at_split_off() -> None:
    dsn = f"dsn: 'user=bot password=xxx sslpassword={SECRET} passfile=/p/{SECRET} dbname=t'"
    assert SECRET not in mask_text(dsn)
    assert "user=bot" in mask_text(dsn)
    assert "dbname=t" in mask_text(dsn)
    leak = 'could not translate host name "xyzzy@db" to address'
    assert mask_text(leak) == 'could not translate host name "***@db" to address'


def test_known_fragments_of_the_password_are_scrubbed() -> None:
    url = parse_url("postgresql://bot:Hunter2%40xyzzy@db/trading")
    fragments = secret_fragments(url, environ={})
    assert {"Hunter2@xyzzy", "Hunter2%40xyzzy", "Hunter2", "xyzzy"} <= fragments
    assert mask_text("server said: Hunter2 and xyzzy", fragments) == "server said: *** and ***"
    env = secret_fragments(parse_url("postgresql://bot@db/t"), environ={"PGPASSWORD": SECRET})
    assert SECRET in env
    assert secret_fragments(parse_url("sqlite://"), environ={"PGPASSWORD": SECRET}) == frozenset()
    assert "pw" not in secret_fragments(parse_url("postgresql://bot:pw@db/t"), environ={})
