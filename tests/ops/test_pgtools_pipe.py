"""``_pgtools.pipe`` (the PostgreSQL restore's ``pg_restore | filter | psql``): a script cut
short for any reason commits nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tradestore import Database
from tradestore.errors import BackupError
from tradestore.ops import _pgtools

pytestmark = pytest.mark.postgres_only

SCRIPT = (
    "CREATE TABLE pipe_t (x int);\n"
    "INSERT INTO pipe_t VALUES (1);\n"
    "INSERT INTO pipe_t VALUES (2);\n"
    "INSERT INTO pipe_t VALUES (3);\n"
)


def _psql(url: str) -> list[str]:
    target = _pgtools.target(make_url(url))
    psql = shutil.which("psql")
    assert psql is not None
    return [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
            f"--dbname={target.conninfo}", "--file=-"]  # fmt: skip


def _has_table(url: str) -> bool:
    database = Database(url, check_schema=False)
    try:
        with database.engine.connect() as connection:
            return inspect(connection).has_table("pipe_t")
    finally:
        database.dispose()


def _run(url: str, producer: list[str], transform: object = iter) -> None:
    _pgtools.pipe(
        producer, _psql(url), transform=transform,  # type: ignore[arg-type]
        begin="BEGIN;\n", commit="COMMIT;\n",
    )  # fmt: skip


def test_a_whole_script_commits(fresh_url: str) -> None:
    _run(fresh_url, ["printf", SCRIPT])
    database = Database(fresh_url, check_schema=False)
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM pipe_t")).scalar() == 3
    finally:
        database.dispose()


def test_an_exception_midway_commits_nothing(fresh_url: str) -> None:
    def interrupted(lines: Iterator[str]) -> Iterator[str]:
        for number, line in enumerate(lines):
            if number == 2:
                raise RuntimeError("interrupted mid-restore")
            yield line

    with pytest.raises(RuntimeError, match="interrupted"):
        _run(fresh_url, ["printf", SCRIPT], interrupted)
    assert not _has_table(fresh_url)


def test_a_failing_producer_commits_nothing(fresh_url: str) -> None:
    producer = ["sh", "-c", f"printf '{SCRIPT}'; echo 'error: disk gone' >&2; exit 1"]
    with pytest.raises(BackupError, match="disk gone"):
        _run(fresh_url, producer)
    assert not _has_table(fresh_url)


def test_a_failing_statement_commits_nothing(fresh_url: str) -> None:
    producer = ["printf", SCRIPT + "INSERT INTO pipe_t VALUES ('not a number');\n"]
    with pytest.raises(BackupError, match="psql failed"):
        _run(fresh_url, producer)
    assert not _has_table(fresh_url)
