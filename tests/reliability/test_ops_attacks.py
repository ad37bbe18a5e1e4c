"""Issue 11, items 4, 10, 11, 12, 14 and 15: the operations attacked from outside.

Each test reproduces one attack that hurt before its fix: ``export`` writing onto the live
database, a restore onto a full disk reported as a damaged backup (and a gzip bomb filling the
disk), failed backups leaving SQLite journals behind, a backup carrying a foreign trigger
passing ``verify``, retention keyed on another bot's open position, and time specs that crashed
or silently deleted everything. Every test is bounded to seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability_support import database_state, record_figure
from sqlalchemy import insert, select

from sibling import load
from tradestore import Database
from tradestore.cli import main
from tradestore.config import sqlite_path
from tradestore.errors import BackupError, CorruptBackup, InsufficientSpace, ValidationError
from tradestore.models import Bot, ClosedPosition, Order, Position
from tradestore.ops.backup import backup_database
from tradestore.ops.restore import restore_database
from tradestore.ops.retention import prune
from tradestore.ops.verify import verify_database

pytestmark = pytest.mark.reliability


scenario = load("ops/ops_scenario.py")

Cli = Callable[..., Result]


@pytest.fixture
def cli() -> Cli:
    def invoke(*args: str) -> Result:
        env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None, "COLUMNS": "200"}
        return CliRunner().invoke(main, list(args), env=env)  # type: ignore[arg-type]

    return invoke


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _with_orders(db: Database) -> None:
    with db.engine.begin() as conn:
        scenario.add_bot(conn, "alpha")
        for number in range(3):
            scenario.add_order(conn, f"o-{number}", status="filled", updated=scenario.OLD, fills=1)


# --- item 4: export never writes onto the live database ------------------------------------------


def test_export_never_writes_onto_the_live_database(
    db: Database, db_url: str, cli: Cli, tmp_path: Path
) -> None:
    """Every spelling of the live database (and its -wal/-shm) as ``-o`` is refused, with and
    without --force; the file's bytes and every row are unchanged and it still verifies."""
    if db.dialect_name != "sqlite":
        pytest.skip("PostgreSQL has no database file an export could overwrite")
    _with_orders(db)
    live = sqlite_path(db.url)
    assert live is not None
    before_rows = database_state(db)
    holder = sqlite3.connect(live, isolation_level=None)  # keeps the -wal and -shm in place
    try:
        holder.execute("SELECT count(*) FROM orders").fetchone()
        before_bytes = _digest(live)
        (tmp_path / "sub").mkdir()
        hard = tmp_path / "hard.db"
        os.link(live, hard)
        link = tmp_path / "link.db"
        link.symlink_to(live)
        spellings = [
            str(live),
            str(tmp_path / "sub" / ".." / live.name),
            f"{live}-wal",
            f"{live}-shm",
            str(hard),
            str(link),
        ]
        tried = 0
        for spelling in spellings:
            for force in ((), ("--force",)):
                result = cli("export", "orders", "--url", db_url, "-o", spelling, *force)
                tried += 1
                assert result.exit_code == 2, (spelling, force, result.output)
                assert "live database" in result.output, result.output
                assert "Traceback" not in result.output
        assert _digest(live) == before_bytes
    finally:
        holder.close()
    assert database_state(db) == before_rows
    assert verify_database(db).ok
    assert not list(tmp_path.glob(".*.tmp"))
    record_figure("export_live_database", "spellings_tried", tried)
    record_figure("export_live_database", "rows_lost", 0)


def test_export_refuses_an_existing_file_and_never_follows_a_link(
    db: Database, db_url: str, cli: Cli, tmp_path: Path
) -> None:
    _with_orders(db)
    existing = tmp_path / "orders.csv"
    existing.write_text("keep me\n")
    os.chmod(existing, 0o640)
    result = cli("export", "orders", "--url", db_url, "-o", str(existing))
    assert result.exit_code == 2, result.output
    assert "exists" in result.output
    assert "--force" in result.output
    assert existing.read_text() == "keep me\n"

    # --force replaces the file atomically and keeps the mode the operator gave it.
    result = cli("export", "orders", "--url", db_url, "-o", str(existing), "--force")
    assert result.exit_code == 0, result.output
    assert existing.read_text().startswith("order_id,")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640

    # A link is never followed: refused, and with --force the link itself is replaced.
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    os.chmod(precious, 0o644)
    link = tmp_path / "out.csv"
    link.symlink_to(precious)
    result = cli("export", "orders", "--url", db_url, "-o", str(link))
    assert result.exit_code == 2, result.output
    result = cli("export", "orders", "--url", db_url, "-o", str(link), "--force")
    assert result.exit_code == 0, result.output
    assert not link.is_symlink()
    assert link.read_text().startswith("order_id,")
    assert precious.read_text() == "precious\n"
    assert stat.S_IMODE(precious.stat().st_mode) == 0o644

    # A dangling link, a directory and a device are refused too.
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    for target in (dangling, tmp_path, Path("/dev/null")):
        result = cli("export", "orders", "--url", db_url, "-o", str(target), "--force")
        if target == dangling:
            assert result.exit_code == 0, result.output  # replaced, never followed
            assert not dangling.is_symlink()
            assert not (tmp_path / "nowhere").exists()
        else:
            assert result.exit_code == 2, (target, result.output)
    assert Path("/dev/null").is_char_device()


def test_a_new_export_is_private_and_a_failed_one_leaves_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradestore.ops import export as export_module

    _with_orders(db)
    old_umask = os.umask(0)
    try:
        target = tmp_path / "orders.jsonl"
        result = export_module.export_table(db, "orders", target, format="jsonl")
    finally:
        os.umask(old_umask)
    assert result.rows == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    previous = target.read_bytes()

    def broken(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_jsonl", broken)
    with pytest.raises(OSError, match="No space left"):
        export_module.export_table(db, "orders", target, format="jsonl", force=True)
    assert target.read_bytes() == previous
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="No space left"):
        export_module.export_table(db, "orders", out / "new.jsonl", format="jsonl")
    assert not [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp")]
    assert list(out.iterdir()) == []


# --- items 10 and 11: a full disk is a full disk, and leaves nothing behind ----------------------

DISK_BYTES = 8 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of the test's own, unmounted in teardown (needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr.strip()}")
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Write a filler file so that about ``leave`` bytes stay free on ``disk``."""
    filler = disk / "filler"
    usage = os.statvfs(disk)  # not shutil.disk_usage: some tests blind it
    free = usage.f_bavail * usage.f_frsize
    with filler.open("ab") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def _big_database(db: Database, megabytes: float) -> None:
    """About ``megabytes`` of bot notes: a database whose backup unpacks to that size."""
    rows = int(megabytes * 1024 * 1024 / 3200)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Bot),
            [
                {"bot_id": f"bot-{n}", "name": f"bot {n}", "notes": os.urandom(1500).hex()}
                for n in range(rows)
            ],
        )


def _blind_space_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every free-space check see plenty, so that writing itself hits ENOSPC."""
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: type(usage)(usage.total, 0, 1 << 50))


def _leftovers(*folders: Path) -> list[str]:
    ignored = {"filler", "live.db", "live.db-wal", "live.db-shm"}
    return sorted(
        str(path.relative_to(folder))
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file() and path.name not in ignored
    )


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("unpacking into the live database's directory is SQLite's restore")


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("checks", ["checked", "blinded"])
def test_restore_onto_a_full_disk_reports_a_full_disk(
    db: Database,
    db_url: str,
    tmp_path: Path,
    small_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    checks: str,
) -> None:
    """A good 1.5 MiB backup restored onto a disk with 512 KiB free: InsufficientSpace naming
    needed and free bytes (checked up front, or from ENOSPC when the checks are blinded), the
    live database unchanged, no scratch file left; once space is freed the same file restores.
    """
    _big_database(db, 1.5)
    backup = backup_database(db, directory=tmp_path / "backups", keep_days=None).backup.path
    template = sqlite_path(db.url)
    assert template is not None
    db.dispose()
    small = tmp_path / "small.db"  # the live database: other content, much smaller
    shutil.copyfile(template, small)
    conn = sqlite3.connect(small, isolation_level=None)
    try:
        conn.execute("DELETE FROM bots WHERE bot_id <> 'bot-0'")
        conn.execute("VACUUM")
    finally:
        conn.close()
    live = small_disk / "live.db"
    shutil.copyfile(small, live)
    target = Database(f"sqlite:///{live}")
    before = database_state(target)
    filler = _fill(small_disk, 512 << 10)
    if checks == "blinded":
        _blind_space_checks(monkeypatch)
    with pytest.raises(InsufficientSpace) as caught:
        restore_database(target, backup, backup_dir=tmp_path / "safety")
    error = caught.value
    assert not isinstance(error, CorruptBackup)
    assert "not enough free disk space" in str(error)
    assert error.directory == str(small_disk)
    assert error.free is not None
    assert error.needed is not None
    if checks == "checked":
        assert error.needed > error.free
    assert _leftovers(small_disk) == []
    monkeypatch.undo()
    assert database_state(target) == before
    filler.unlink()
    result = restore_database(target, backup, backup_dir=tmp_path / "safety")
    assert result.ok
    assert result.row_counts["bots"] > 100
    target.dispose()
    record_figure("restore_full_disk", "rows_lost", 0)


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("announced", ["honest", "forged"])
def test_a_gzip_bomb_never_fills_the_disk(
    db: Database, tmp_path: Path, small_disk: Path, announced: str
) -> None:
    """64 MiB of zeros in a 64 KiB gzip file, restored onto an 8 MiB disk: refused before
    unpacking when the trailer says 64 MiB, stopped short of the headroom when the trailer is
    forged to say 1000 bytes. The disk never fills, the live database is untouched."""
    bomb = tmp_path / "bomb.db.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        block = b"\0" * (1 << 20)
        for _ in range(64):
            handle.write(block)
    if announced == "forged":
        with bomb.open("r+b") as handle:
            handle.seek(-4, os.SEEK_END)
            handle.write((1000).to_bytes(4, "little"))
    template = sqlite_path(db.url)
    assert template is not None
    db.dispose()
    live = small_disk / "live.db"
    shutil.copyfile(template, live)
    live_bytes = _digest(live)
    target = Database(f"sqlite:///{live}")
    lowest_free = [shutil.disk_usage(small_disk).free]

    def watch(_phase: str, _done: int, _total: int | None) -> None:
        lowest_free.append(shutil.disk_usage(small_disk).free)

    with pytest.raises(InsufficientSpace, match="not enough free disk space"):
        restore_database(target, bomb, backup_dir=tmp_path / "safety", progress=watch)
    target.dispose()
    assert min(lowest_free) > 0
    assert _leftovers(small_disk) == []
    assert _digest(live) == live_bytes
    record_figure("restore_gzip_bomb", "bytes_of_bomb", 64 << 20)


@pytest.mark.parametrize("checks", ["checked", "blinded"])
def test_failed_backups_leave_no_temporary_files(
    db: Database, small_disk: Path, monkeypatch: pytest.MonkeyPatch, checks: str
) -> None:
    """Backups onto a disk filling up step by step: every failure is InsufficientSpace, and
    after each one the backup directory holds nothing (no ``.db.tmp-journal``, no partial)."""
    _big_database(db, 1.5)
    folder = small_disk / "backups"
    folder.mkdir()
    if checks == "blinded":
        _blind_space_checks(monkeypatch)
    failures = 0
    filler = small_disk / "filler"
    for leave in (16 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 2 << 20, None):
        filler.unlink(missing_ok=True)
        if leave is not None:
            _fill(small_disk, leave)
        try:
            backup_database(db, directory=folder, keep_days=None)
        except InsufficientSpace:
            failures += 1
            assert _leftovers(folder) == [], leave
            continue
        break
    else:
        pytest.fail("the backup never succeeded, even on an empty disk")
    assert failures >= 2
    record_figure("failed_backup_leftovers", "failed_backups", failures)
    record_figure("failed_backup_leftovers", "files_left", 0)


# --- item 14: retention's "still open" is scoped by bot ---------------------------------------


def test_another_bots_open_position_does_not_pin_a_bots_history(db: Database) -> None:
    """Bot beta's position P-1 closed long ago (its closed row, an order and a fill name it);
    bot alpha then opens its own P-1. Beta's history must still be pruned; alpha's open
    position and alpha's own partial close of P-1 are kept."""
    with db.engine.begin() as conn:
        scenario.add_bot(conn, "alpha")
        scenario.add_bot(conn, "beta")
        scenario.add_closed(conn, "P-1", bot_id="beta", closed=scenario.OLD)
        scenario.add_order(
            conn,
            "o-beta",
            bot_id="beta",
            status="filled",
            updated=scenario.OLD,
            position_id="P-1",
            fills=1,
            fill_position_id="P-1",
        )
        scenario.add_order(
            conn,
            "o-beta-fill-only",
            bot_id="beta",
            status="filled",
            updated=scenario.OLD,
            fills=1,
            fill_position_id="P-1",
        )
        scenario.add_position(conn, "P-1", "alpha", scenario.OLD)
        scenario.add_closed(conn, "P-1", bot_id="alpha", closed=scenario.OLD)  # partial close
        scenario.add_order(
            conn, "o-alpha", status="filled", updated=scenario.OLD, position_id="P-1", fills=1
        )
    dry = prune(db, older_than=scenario.RETENTION, now=scenario.NOW, dry_run=True)
    report = prune(db, older_than=scenario.RETENTION, now=scenario.NOW)
    assert report.counts == dry.counts
    assert report.counts["closed_positions"] == 1
    assert report.counts["orders"] == 2
    assert report.counts["fills"] == 2
    with db.engine.connect() as conn:
        closed = conn.execute(select(ClosedPosition.bot_id)).scalars().all()
        orders = conn.execute(select(Order.order_id)).scalars().all()
        positions = conn.execute(select(Position.bot_id, Position.position_id)).all()
    assert closed == ["alpha"]
    assert orders == ["o-alpha"]
    assert [tuple(row) for row in positions] == [("alpha", "P-1")]
    record_figure("retention_bot_scope", "rows_pruned_that_were_pinned", report.total)


# --- item 15: time specs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "999999999d"], "too long ago"),
        (["--older-than", "9" * 5000 + "d"], "too long ago"),
        (["--older-than", "99999999999w"], "too long ago"),
        (["--before", ""], "empty"),
        (["--before", "   "], "empty"),
        (["--older-than", ""], "expected a number and a unit"),
        (["--older-than", "\u0669\u0660d"], "expected a number and a unit"),  # Arabic-Indic 90
        (["--older-than", "\uff19\uff10d"], "expected a number and a unit"),  # full-width 90
        (["--older-than", "\u096fd"], "expected a number and a unit"),  # Devanagari 9
        (["--before", "\u0662\u0660\u0662\u0665-01-31"], "only ASCII"),
        (["--before", "0001-01-01T00:00:00+05:00"], "outside the years 1 to 9999"),
        (["--before", "2999-01-01"], "in the future"),
        (["--before", "1d", "--older-than", "1d"], "either --older-than"),
    ],
)
def test_hostile_prune_time_specs_are_usage_errors(
    db: Database, db_url: str, cli: Cli, args: list[str], message: str
) -> None:
    """Each exits 2 with the reason, never 1, never a traceback, and deletes nothing."""
    _with_orders(db)
    before = database_state(db)
    result = cli("prune", "--url", db_url, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert "older_than=" not in result.output  # no internal field spelling
    assert database_state(db) == before
    record_figure("prune_time_specs", "hostile_specs_refused", 1)


def test_a_future_cutoff_needs_yes(db: Database, db_url: str, cli: Cli) -> None:
    _with_orders(db)
    with pytest.raises(ValidationError, match="in the future"):
        prune(db, cutoff=dt.datetime(2999, 1, 1, tzinfo=dt.UTC))
    assert database_state(db)["orders"][0] == 3
    result = cli("prune", "--url", db_url, "--before", "2999-01-01", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert database_state(db)["orders"][0] == 0


# --- item 12: schema objects that are not tradestore's ------------------------------------------

_FOREIGN: dict[str, dict[str, tuple[list[str], list[str], str]]] = {
    # kind -> backend -> (create, drop, how verify names it)
    "trigger": {
        "sqlite": (
            [
                "CREATE TRIGGER trg_evil AFTER INSERT ON fills BEGIN "
                "DELETE FROM orders WHERE bot_id = NEW.bot_id AND order_id <> NEW.order_id; END"
            ],
            ["DROP TRIGGER trg_evil"],
            "trigger fills.trg_evil",
        ),
        "postgresql": (
            [
                "CREATE FUNCTION evil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "DELETE FROM orders WHERE bot_id = NEW.bot_id AND order_id <> NEW.order_id; "
                "RETURN NEW; END $$",
                "CREATE TRIGGER trg_evil AFTER INSERT ON fills "
                "FOR EACH ROW EXECUTE FUNCTION evil()",
            ],
            ["DROP TRIGGER trg_evil ON fills", "DROP FUNCTION evil()"],
            "trigger fills.trg_evil",
        ),
    },
    "view": {
        backend: (["CREATE VIEW v_extra AS SELECT 1 AS x"], ["DROP VIEW v_extra"], "view v_extra")
        for backend in ("sqlite", "postgresql")
    },
    "table": {
        backend: (["CREATE TABLE extra (x INTEGER)"], ["DROP TABLE extra"], "table extra")
        for backend in ("sqlite", "postgresql")
    },
    "index": {
        backend: (
            ["CREATE INDEX idx_extra ON orders (ticker, side)"],
            ["DROP INDEX idx_extra"],
            "index orders.idx_extra",
        )
        for backend in ("sqlite", "postgresql")
    },
    "function": {
        "postgresql": (
            ["CREATE FUNCTION extra_fn() RETURNS integer LANGUAGE sql AS 'SELECT 1'"],
            ["DROP FUNCTION extra_fn()"],
            "function extra_fn",
        ),
    },
    "rule": {
        "postgresql": (
            ["CREATE RULE r_evil AS ON INSERT TO fills DO ALSO DELETE FROM orders"],
            ["DROP RULE r_evil ON fills"],
            "rule fills.r_evil",
        ),
    },
}


def _run_sql(db: Database, statements: list[str]) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _drop_quietly(db: Database, statements: list[str]) -> None:
    """Teardown: the PostgreSQL test database is shared by the session, so a foreign object
    left by a failed test would fail every later verify."""
    for statement in statements:
        with contextlib.suppress(Exception):  # already dropped
            _run_sql(db, [statement])


def _name(named: str) -> str:
    """The bare name in "index orders.idx_extra" (a dump's index entry names no table)."""
    return named.split(" ")[-1].split(".")[-1]


@pytest.mark.parametrize("kind", sorted(_FOREIGN))
def test_verify_and_restore_refuse_foreign_schema_objects(
    db: Database, backend: str, tmp_path: Path, kind: str
) -> None:
    """A database carrying a foreign object fails ``verify`` naming it; a backup of it is
    refused by restore before anything changed (no safety backup, no row touched)."""
    if backend not in _FOREIGN[kind]:
        pytest.skip(f"SQLite has no {kind}s")
    create, drop, named = _FOREIGN[kind][backend]
    _with_orders(db)
    assert verify_database(db).ok
    try:
        _run_sql(db, create)
        report = verify_database(db)
        failed = {check.name: check.detail for check in report.failures}
        assert "foreign_objects" in failed, report.checks
        assert named in failed["foreign_objects"]
        backup = backup_database(db, directory=tmp_path / "backups", keep_days=None).backup
        assert _name(named) in " ".join(backup.foreign_objects)
    finally:
        _drop_quietly(db, drop)
    assert verify_database(db).ok
    before = database_state(db)
    with pytest.raises(BackupError, match="tradestore did not create") as caught:
        restore_database(db, backup.path, backup_dir=tmp_path / "safety")
    assert _name(named) in str(caught.value)
    assert database_state(db) == before
    assert verify_database(db).ok  # the object did not come back
    assert not (tmp_path / "safety").exists()
    record_figure("foreign_schema_objects", "refused", 1)


def test_a_foreign_trigger_cannot_delete_orders_through_a_restore(
    db: Database, backend: str, tmp_path: Path
) -> None:
    """The reported attack end to end: the trigger's backup is refused, so recording a fill
    afterwards deletes none of the bot's other orders."""
    create, drop, _named = _FOREIGN["trigger"][backend]
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    with db.unit_of_work(bot_id="alpha") as uow:
        for number in range(3):
            uow.orders.submit(
                client_order_id=f"c-{number}",
                ticker="AAPL",
                side="buy",
                order_type="market",
                quantity=Decimal("2"),
            )
    try:
        _run_sql(db, create)
        backup = backup_database(db, directory=tmp_path / "backups", keep_days=None).backup
    finally:
        _drop_quietly(db, drop)
    with pytest.raises(BackupError, match="trg_evil"):
        restore_database(db, backup.path, backup_dir=tmp_path / "safety")
    with db.unit_of_work(bot_id="alpha") as uow:
        first = uow.orders.list_open()[0]
        uow.orders.record_fill(
            first.order_id, fill_id="f-1", quantity=Decimal("1"), price=Decimal("10")
        )
    assert database_state(db)["orders"][0] == 3
    record_figure("foreign_trigger_restore", "orders_lost", 0)
