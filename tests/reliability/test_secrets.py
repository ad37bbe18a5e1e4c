"""Issue 7, test 6 and issue 11, item 5: no spelling of a password is printed, logged or stored.

SQL echo and DEBUG logging on every logger are switched on; the library then connects,
migrates, writes, fails in every way it can (constraint conflicts, bad SQL, a database that
does not exist, a server that does not answer) and the CLI runs with and without ``--debug``.
Every log record (message, arguments, formatted traceback), every exception (its whole
chain, formatted), everything printed and every row of ``migration_history`` is searched for
the password. PostgreSQL uses trust authentication here, so any password connects.

The spellings (issue 11): the password in the netloc, in the query string (``password=``,
``PASSWORD=``, ``sslpassword=``, ``passfile=``), percent-encoded with ``@``, ``/`` and
spaces, unencoded with an ``@``, inside a libpq keyword string, and in ``PGPASSWORD``. Every
secret contains ``TAG``, and so does every piece of one split at ``@``: a leak of any piece
is a leak of ``TAG``.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability_support import record_figure
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import URL, make_url

from tradestore import Database
from tradestore.cli import main
from tradestore.domain.enums import MigrationStatus
from tradestore.errors import TradestoreError
from tradestore.models import MigrationHistory

pytestmark = pytest.mark.reliability

TAG = uuid.uuid4().hex
SECRET = f"Pw-{TAG}-s3cr3t"


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))  # message, args and exc_info/stack
        self.texts.append(repr(record.args))
        self.texts.append(repr(record.msg))


@pytest.fixture
def seen() -> Iterator[list[str]]:
    """Everything logged at DEBUG by any logger, plus what the test adds."""
    collector = Collector()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    loggers = ["sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic", "tradestore"]
    old = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)
    texts: list[str] = []
    yield texts
    root.removeHandler(collector)
    root.setLevel(old_level)
    for name, level in old.items():
        logging.getLogger(name).setLevel(level)
    texts.extend(collector.texts)
    leaks = [t for t in texts if TAG in t]
    assert leaks == []
    record_figure("secrets", "texts_searched", len(texts))
    record_figure("secrets", "leaks", len(leaks))


def _failure(texts: list[str], call: Callable[[], object]) -> None:
    """Run ``call``; it must raise a tradestore error. Keep the whole formatted chain."""
    try:
        call()
    except TradestoreError as exc:
        texts.append("".join(traceback.format_exception(exc)))
        texts.append(repr(exc))
        return
    except Exception as exc:  # a non-tradestore error is a failure, but searched too
        texts.append("".join(traceback.format_exception(exc)))
        raise
    pytest.fail(f"{call} did not raise")


def _cli(texts: list[str], *args: str) -> int:
    runner = CliRunner()
    env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None}
    result = runner.invoke(main, list(args), env=env)  # type: ignore[arg-type]
    texts.append(result.output)
    texts.append(getattr(result, "stderr", "") or "")
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        texts.append("".join(traceback.format_exception(*result.exc_info)))
    return result.exit_code


@pytest.mark.postgres_only
def test_password_never_leaks_on_postgresql(
    db_url: str, seen: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_url(db_url).set(password=SECRET)
    raw = url.render_as_string(hide_password=False)
    assert SECRET in raw
    db = Database(raw, echo=True)
    seen.append(repr(db))
    seen.append(str(db.engine.url))
    seen.append(repr(db.engine))
    with db.unit_of_work() as uow:
        uow.bots.register("leaky", starting_balance=D(100))
    with db.unit_of_work(bot_id="leaky") as uow:
        uow.orders.submit(
            client_order_id="c1", ticker="X", side="buy", order_type="market", quantity=D(1)
        )
    _failure(
        seen,
        lambda: db.run(
            lambda uow: uow.orders.submit(
                client_order_id="c1", ticker="Y", side="buy", order_type="market", quantity=D(1)
            ),
            bot_id="leaky",
        ),
    )

    def bad_sql() -> None:
        with db.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    _failure(seen, bad_sql)
    db.dispose()

    missing = make_url(raw).set(database=f"nope_{uuid.uuid4().hex[:8]}")
    _failure(seen, lambda: Database(missing.render_as_string(hide_password=False)).check_schema())

    for args in (
        ["db", "current", "--url", raw],
        ["db", "verify", "--url", raw],
        ["stats", "--url", raw],
        ["db", "status", "--url", raw],
        ["--debug", "db", "verify", "--url", raw],
        ["db", "current", "--url", missing.render_as_string(hide_password=False)],
        ["--debug", "db", "current", "--url", missing.render_as_string(hide_password=False)],
    ):
        _cli(seen, *args)
    out, err = capsys.readouterr()
    seen.extend([out, err])


def test_password_never_leaks_when_the_server_is_unreachable(
    seen: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    raw = f"postgresql+psycopg2://trader:{SECRET}@127.0.0.1:1/prod"
    db = Database(raw, echo=True, connect_timeout=2)
    seen.append(repr(db))
    _failure(seen, db.check_schema)
    _failure(seen, lambda: db.run(lambda uow: uow.bots.list()))
    _failure(seen, lambda: Database(raw.replace("postgresql+psycopg2", "mysql")))
    _failure(seen, lambda: Database(raw.replace("@127.0.0.1:1", "@127.0.0.1:notaport")))
    for args in (
        ["db", "current", "--url", raw],
        ["--debug", "db", "current", "--url", raw],
        ["db", "verify", "--url", raw],
        ["stats", "--url", raw],
        ["--debug", "stats", "--url", raw],
        ["export", "orders", "--url", raw],
    ):
        assert _cli(seen, *args) != 0
    out, err = capsys.readouterr()
    seen.extend([out, err])


# --- issue 11, item 5: every spelling ------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """One way of handing tradestore a password, and what tradestore must do with it."""

    name: str
    #: the text given as ``--url`` / ``Database(url)``, built from the test database's URL
    build: Callable[[URL], str]
    #: "connects", "refused" (a ConfigurationError before anything connects) or "fails"
    #: (libpq refuses the connection: every command fails)
    outcome: str
    env: dict[str, str] = field(default_factory=dict)


def _with_password(password: str) -> Callable[[URL], str]:
    return lambda base: base.set(password=password).render_as_string(hide_password=False)


def _with_query(key: str, value: str) -> Callable[[URL], str]:
    return lambda base: base.update_query_dict({key: value}).render_as_string(hide_password=False)


def _unencoded(password: str) -> Callable[[URL], str]:
    def build(base: URL) -> str:
        return f"postgresql://{base.username}:{password}@{base.host}:{base.port}/{base.database}"

    return build


def _keywords(base: URL) -> str:
    return (
        f"host={base.host} port={base.port} dbname={base.database} user={base.username} "
        f"password={SECRET}"
    )


PG_SPELLINGS = [
    Spelling("netloc", _with_password(SECRET), "connects"),
    Spelling("query", _with_query("password", SECRET), "connects"),
    Spelling("query-upper-case", _with_query("PASSWORD", SECRET), "fails"),
    Spelling("sslpassword", _with_query("sslpassword", SECRET), "connects"),
    Spelling("passfile", _with_query("passfile", f"/nonexistent/{SECRET}"), "connects"),
    Spelling("percent-encoded", _with_password(f"{TAG}a@b/ c:?#%{TAG}"), "connects"),
    Spelling("unencoded-at", _unencoded(f"{TAG}a@{TAG}b"), "refused"),
    Spelling("unencoded-at-and-slash", _unencoded(f"{TAG}a/b@{TAG}c"), "refused"),
    Spelling("libpq-keywords", _keywords, "refused"),
    Spelling(
        "PGPASSWORD",
        lambda base: base.render_as_string(hide_password=False),
        "connects",
        env={"PGPASSWORD": SECRET},
    ),
]

SQLITE_SPELLINGS = [
    Spelling("query", _with_query("password", SECRET), "refused"),
    Spelling("query-upper-case", _with_query("PASSWORD", SECRET), "refused"),
    Spelling("sslpassword", _with_query("sslpassword", SECRET), "refused"),
    Spelling("netloc", lambda base: f"sqlite://:{SECRET}@/{base.database}", "refused"),
    Spelling(
        "PGPASSWORD",
        lambda base: base.render_as_string(hide_password=False),
        "connects",
        env={"PGPASSWORD": SECRET},
    ),
]


def _invoke(texts: list[str], env: dict[str, str], *args: str, input: str | None = None) -> Result:
    runner = CliRunner()
    full: dict[str, str | None] = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None}
    full.update(env)
    result = runner.invoke(main, list(args), env=full, input=input)
    texts.append(result.output)
    texts.append(getattr(result, "stderr", "") or "")
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        texts.append("".join(traceback.format_exception(*result.exc_info)))
    return result


def _every_command(
    texts: list[str], raw: str, env: dict[str, str], tmp_path: Path, *, connects: bool
) -> None:
    """Run every command of the CLI against ``raw``; all succeed iff the spelling connects."""
    from tradestore.migrate import head_revision, script_directory

    head = head_revision()
    previous = script_directory().get_revision(head).down_revision
    assert isinstance(previous, str)
    backups = tmp_path / "backups"
    url = ["--url", raw]
    expect_ok = [
        ["db", "upgrade", *url],
        ["db", "current", *url],
        ["db", "status", *url],
        ["db", "status", "--json", *url],
        ["db", "verify", *url],
        ["stats", *url],
        ["stats", "--json", "--indexes", *url],
        ["export", "orders", *url],
        ["export", "migration_history", "--format", "jsonl", *url],
        ["prune", "--older-than", "3650d", "--dry-run", *url],
        ["backup", "--dir", str(backups), *url],
        ["db", "downgrade", previous, "--yes", *url],
        ["db", "upgrade", *url],
    ]
    for args in expect_ok:
        result = _invoke(texts, env, *args)
        assert (result.exit_code == 0) == connects, (args, result.output)
    # The confirmation prompt shows the database, and the answer "no" aborts.
    result = _invoke(texts, env, "db", "downgrade", previous, *url, input="n\n")
    assert result.exit_code != 0
    if connects:
        assert "Downgrade " in result.output
        (backup,) = [p for p in backups.iterdir() if p.name.endswith((".db.gz", ".dump"))]
        restored = _invoke(
            texts, env, "restore", str(backup), "--yes", "--backup-dir", str(backups), *url
        )
        assert restored.exit_code == 0, restored.output
    else:
        _invoke(texts, env, "restore", str(tmp_path / "none.db.gz"), "--yes", *url)
    # The URL from the environment, and tracebacks with --debug.
    _invoke(texts, {**env, "TRADESTORE_DATABASE_URL": raw}, "db", "status")
    _invoke(texts, {**env, "TRADESTORE_DATABASE_URL": raw}, "--debug", "db", "verify")
    _invoke(texts, env, "--debug", "stats", *url)


def _library(texts: list[str], raw: str, spelling: Spelling) -> None:
    """repr, engine, writes, refused writes, bad SQL and a missing database, all with echo."""
    if spelling.outcome == "refused":
        _failure(texts, lambda: Database(raw, echo=True))
        _failure(texts, lambda: Database(raw, echo=True, check_schema=False).dispose())
        return
    db = Database(raw, echo=True)
    # db.url itself holds the secrets (the backup tools need them): it is never printed.
    texts.extend([repr(db), str(db.engine.url), repr(db.engine)])
    texts.append(db.safe_url)
    if spelling.outcome == "fails":
        _failure(texts, db.check_schema)
        _failure(texts, lambda: db.run(lambda uow: uow.bots.list()))
        db.dispose()
        return
    bot = f"bot_{uuid.uuid4().hex[:8]}"
    with db.unit_of_work() as uow:
        uow.bots.register(bot, starting_balance=D(100))
    order = {"client_order_id": "c1", "side": "buy", "order_type": "market", "quantity": D(1)}
    db.run(lambda uow: uow.orders.submit(ticker="X", **order), bot_id=bot)  # type: ignore[arg-type]
    _failure(texts, lambda: db.run(lambda uow: uow.orders.submit(ticker="Y", **order), bot_id=bot))  # type: ignore[arg-type]

    def bad_sql() -> None:
        with db.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    _failure(texts, bad_sql)
    _failure(texts, lambda: db.downgrade("no_such_revision"))
    db.dispose()
    if db.dialect_name == "postgresql":
        missing = make_url(raw).set(database=f"nope_{uuid.uuid4().hex[:8]}")
        missing_raw = missing.render_as_string(hide_password=False)
        _failure(texts, lambda: Database(missing_raw).check_schema())


def _history_rows(base: URL) -> list[str]:
    """Everything migration_history holds, read without tradestore's help."""
    engine = create_engine(base)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT database_path, error_message FROM migration_history")
            ).all()
    finally:
        engine.dispose()
    return [repr(tuple(row)) for row in rows]


def _run_spelling(
    spelling: Spelling,
    base: URL,
    seen: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = spelling.build(base)
    assert TAG in raw or TAG in "".join(spelling.env.values())
    for name, value in spelling.env.items():
        monkeypatch.setenv(name, value)
    connects = spelling.outcome == "connects"
    _every_command(seen, raw, spelling.env, tmp_path, connects=connects)
    _library(seen, raw, spelling)
    if connects:
        history = _history_rows(base)
        assert history  # upgrades and downgrades were recorded
        seen.extend(history)
        record_figure("secrets", "history_rows_searched", len(history))
    out, err = capsys.readouterr()
    seen.extend([out, err])
    record_figure("secrets", "spellings", 1)


@pytest.mark.postgres_only
@pytest.mark.parametrize("spelling", PG_SPELLINGS, ids=lambda s: s.name)
def test_no_spelling_of_a_password_leaks_on_postgresql(
    spelling: Spelling,
    fresh_url: str,
    seen: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run_spelling(spelling, make_url(fresh_url), seen, tmp_path, monkeypatch, capsys)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("spelling", SQLITE_SPELLINGS, ids=lambda s: s.name)
def test_no_spelling_of_a_password_leaks_on_sqlite(
    spelling: Spelling,
    fresh_url: str,
    seen: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = make_url(fresh_url)
    _run_spelling(spelling, base, seen, tmp_path, monkeypatch, capsys)
    path = Path(str(base.database))
    # A refused URL creates nothing: SQLite has no password, so it is not the user's database.
    assert path.exists() == (spelling.outcome == "connects")


def test_history_rows_stored_unmasked_by_older_versions_are_masked(db_url: str) -> None:
    """A ``?password=`` URL stored in clear by an older tradestore is masked by the next upgrade."""
    leaked = f"postgresql+psycopg2://bot@db.example/trading?password={SECRET}"
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            insert(MigrationHistory),
            {
                "migration_id": "0001",
                "migration_name": "old",
                "database_path": leaked,
                "applied_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                "applied_date": dt.date(2024, 1, 1),
                "duration_seconds": 0.1,
                "status": MigrationStatus.APPLIED,
            },
        )
    engine.dispose()
    db = Database(db_url)
    db.upgrade()
    db.dispose()
    paths = [row.split(",")[0] for row in _history_rows(make_url(db_url))]
    assert not [p for p in paths if TAG in p]
    assert any("bot@db.example/trading?password=***" in p for p in paths)
