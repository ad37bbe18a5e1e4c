"""Database options of issue 11: SQLite's directory and durability, PostgreSQL's time zone."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tradestore import Database
from tradestore.errors import ConfigurationError

UTC = dt.UTC


# --- item 18: a mistyped SQLite path ------------------------------------------------------


def test_missing_directory_is_refused_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.db"
    with pytest.raises(ConfigurationError, match=r"dir.*does not exist") as raised:
        Database(f"sqlite:///{target}")
    assert str(target.parent) in str(raised.value)
    assert not (tmp_path / "no").exists()


def test_default_database_gets_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADESTORE_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    db = Database.from_env(check_schema=False)
    try:
        db.upgrade()
    finally:
        db.dispose()
    assert (tmp_path / "data" / "tradestore.db").is_file()


def test_existing_directory_is_used(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", check_schema=False)
    try:
        db.upgrade()
    finally:
        db.dispose()
    assert (tmp_path / "x.db").is_file()


# --- item 19: SQLite durability -----------------------------------------------------------


def _synchronous(db: Database) -> int:
    with db.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())


@pytest.mark.parametrize(("setting", "pragma"), [(None, 1), ("FULL", 2), ("extra", 3)])
def test_sqlite_synchronous_is_an_option(tmp_path: Path, setting: str | None, pragma: int) -> None:
    options = {} if setting is None else {"sqlite_synchronous": setting}
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", check_schema=False, **options)
    try:
        assert _synchronous(db) == pragma  # default NORMAL (1); FULL 2; EXTRA 3
    finally:
        db.dispose()


@pytest.mark.parametrize("setting", ["OFF", "0", "fast", ""])
def test_unsafe_or_unknown_synchronous_is_refused(tmp_path: Path, setting: str) -> None:
    with pytest.raises(ConfigurationError, match=f"sqlite_synchronous={setting!r}"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous=setting)
    assert not (tmp_path / "x.db").exists()


# --- item 6 (time zone part): PostgreSQL sessions are pinned to UTC -----------------------


@pytest.mark.postgres_only
def test_postgres_session_is_utc_whatever_the_database_default(
    fresh_url: str, backend: str
) -> None:
    admin = create_engine(fresh_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Tokyo'"))
        # a new connection, without tradestore, sees the database's default
    with admin.connect() as conn:
        assert conn.execute(text("SHOW TimeZone")).scalar_one() == "Asia/Tokyo"
    admin.dispose()
    Database(fresh_url, check_schema=False).upgrade()
    db = Database(fresh_url)
    latest = dt.datetime(9999, 12, 31, 20, 0, tzinfo=UTC)  # year 10000 in Tokyo
    earliest = dt.datetime(1, 1, 1, 0, 0, tzinfo=UTC)
    try:
        with db.unit_of_work() as uow:
            uow.bots.register("tz")
        with db.unit_of_work(bot_id="tz") as uow:
            late = uow.positions.open(
                "AAPL", side="long", quantity=D(1), entry_price=D(1), opened_at=latest
            )
            early = uow.positions.open(
                "MSFT", side="long", quantity=D(1), entry_price=D(1), opened_at=earliest
            )
        with db.unit_of_work(bot_id="tz") as uow:
            assert uow.positions.get(late.position_id).opened_at == latest
            assert uow.positions.get(early.position_id).opened_at == earliest
            assert len(uow.positions.list_open()) == 2
            assert uow.session.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
    finally:
        db.dispose()


def test_no_directory_made_for_in_memory(tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path))
    Database("sqlite://", check_schema=False).dispose()
    assert set(os.listdir(tmp_path)) == before
