"""Issue 7, test 6: the URL's password appears in no log record, exception or CLI output.

SQL echo and DEBUG logging on every logger are switched on; the library then connects,
migrates, writes, fails in every way it can (constraint conflicts, bad SQL, a database that
does not exist, a server that does not answer) and the CLI runs with and without ``--debug``.
Every log record (message, arguments, formatted traceback), every exception (its whole
chain, formatted), and everything printed is searched for the password. PostgreSQL uses
trust authentication here, so any password connects.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal as D  # noqa: N817

import pytest
from click.testing import CliRunner
from reliability_support import record_figure
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tradestore import Database
from tradestore.cli import main
from tradestore.errors import TradestoreError

pytestmark = pytest.mark.reliability

SECRET = f"Pw-{uuid.uuid4().hex}-s3cr3t"


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
    leaks = [t for t in texts if SECRET in t]
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
