"""Every release's database, frozen under tests/frozen/<release>/, upgrades to head intact.

``tests/frozen/make_frozen.py`` filled each database with that release's own code and wrote
what the release read back from it (``expected.<backend>.json``: every row of every table,
every view's rows, the figures the library derives). Here the current code restores the
database (a copy of the SQLite file; the plain-SQL dump loaded with ``psql`` into a throwaway
PostgreSQL database), upgrades it to head through ``Database.upgrade()``, and checks that every
row survived and that every figure it derives now (order totals, P&L, snapshots, metrics,
analytics, training; ``tests/frozen/figures.py``) equals the figure the release derived. Then
it downgrades back to the release's revision and checks the rows and views again, and upgrades
once more. A new release adds its directory; nothing here changes unless a revision renames or
adds columns, which it must then map below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from frozen import figures
from sibling import load
from tradestore import Database
from tradestore.domain import pnl
from tradestore.domain.enums import PositionSide
from tradestore.domain.fill_accounting import slippage_bps
from tradestore.domain.money import fit
from tradestore.migrate import head_revision
from tradestore.models import Base
from tradestore.models.trading import ALL_STRATEGIES

FROZEN = Path(__file__).resolve().parent.parent / "frozen"
RELEASES = sorted(p.name for p in FROZEN.iterdir() if (p / "tradestore.sqlite").is_file())

#: Columns a later revision renamed, (table, name in the release) -> name now. None so far:
#: revisions 0005 to 0009 rename nothing.
RENAMED_COLUMNS: dict[tuple[str, str], str] = {}


def _amount(value: Any) -> Decimal | None:
    """A money value of a table reading (``figures.canon``'s ``D:`` text) as a Decimal."""
    if value is None:
        return None
    assert isinstance(value, str), value
    assert value.startswith("D:"), value
    return Decimal(value[2:])


def _fitted(value: Decimal | None, backend: str) -> Decimal | None:
    return None if value is None else fit(value, backend)


def _gross_pnl(row: dict[str, Any], backend: str) -> Decimal | None:
    """What 0009 derives for an old closed row: side x (exit - entry) x quantity."""
    quantity, entry, exit_ = (_amount(row[c]) for c in ("quantity", "entry_price", "exit_price"))
    assert quantity is not None
    assert entry is not None
    assert exit_ is not None
    return _fitted(pnl.pnl(PositionSide(row["side"]), quantity, entry, exit_), backend)


def _keep_position(row: dict[str, Any], backend: str) -> bool | None:
    """What 0012 stores for an old order: False (never kept) once it names a position or has
    a fill (recorded under 'manual'), else NULL (it follows its bot from its first fill)."""
    filled = _amount(row["filled_quantity"])
    return False if row["position_id"] is not None or (filled or 0) > 0 else None


def _ratio(value: Decimal | None) -> str | None:
    """A ratio as the table reading spells it (``figures.canon`` of the stored double)."""
    return None if value is None else figures.canon(float(value))


def _closed_bps(row: dict[str, Any], backend: str) -> str | None:
    return _ratio(slippage_bps(_amount(row["slippage"]), _amount(row["exit_price"])))


def _order_bps(row: dict[str, Any], backend: str) -> str | None:
    references = (_amount(row[c]) for c in ("reference_price", "limit_price", "stop_price"))
    reference = next((r for r in references if r is not None), None)
    return _ratio(slippage_bps(_amount(row["slippage"]), reference))


#: Columns a later revision added to a table a release already had, with the value every
#: row of the release must have after the upgrade: a constant, or, for a column the upgrade
#: derives from the row, a function of the release's row (its columns by name, as read) and
#: the backend, recomputing it with today's rule; derived amounts compare as numbers, derived
#: ratios as the double the reading holds.
ADDED_COLUMNS: dict[tuple[str, str], Any] = {
    # 0006: an order is reduce-only only if the bot said so; no order of 0.1.0 did.
    ("orders", "reduce_only"): False,
    # 0009: derived from the row itself.
    ("closed_positions", "gross_pnl"): _gross_pnl,
    ("closed_positions", "slippage_bps"): _closed_bps,
    ("orders", "slippage_bps"): _order_bps,
    # 0009: nothing recorded these before.
    ("positions", "entry_logic"): None,
    ("positions", "interval"): None,
    ("closed_positions", "entry_logic"): None,
    ("closed_positions", "exit_logic"): None,
    ("closed_positions", "interval"): None,
    # 0009: NULL until metrics.compute runs for the day again.
    ("performance_metrics", "largest_win_30d"): None,
    ("performance_metrics", "largest_loss_30d"): None,
    # 0012: position keeping from fills is opt-in; no bot, order or position of 0.1.0 had it.
    # An order with a position or a fill was recorded under 'manual': never kept.
    ("bots", "position_keeping"): "manual",
    ("orders", "keep_position"): _keep_position,
    ("positions", "kept_from_fills"): False,
}


def _renamed(**names: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def rename(record: dict[str, Any]) -> dict[str, Any]:
        return {names.get(k, k): v for k, v in record.items()}

    return rename


def _whole_bot_strategy(record: dict[str, Any]) -> dict[str, Any]:
    if record.get("strategy") == ALL_STRATEGIES:
        return {**record, "strategy": None}
    return record


#: How a figure's records changed shape since the release, applied to today's records before
#: they are compared (only names and the spelling of "no strategy": the values are the same
#: stored data). A field a record gained is not compared; one it lost must be mapped here.
FIGURE_MAPPINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    # Since 0.1.0: DailyFillRate.day is DailyFillRate.date.
    "orders.daily_fill_rate": _renamed(date="day"),
    # Since 0.1.0: orders.fill_stats returns OrderFillStats (the view's record, with the
    # order's client id, type and fill quantity); its commission is total_commission.
    "orders.fill_stats": _renamed(total_commission="commission"),
    # Since 0.1.0: the whole bot's metrics row is reported with strategy "all" (what the
    # column has always held, ALL_STRATEGIES) where 0.1.0 reported None.
    "metrics.latest": _whole_bot_strategy,
    "metrics.history": _whole_bot_strategy,
}


def _first_sessions(tables: dict[str, Any]) -> list[dict[str, Any]]:
    """0010: each bot that had started has one session, its start and end those of the bot's
    row; its balances and figures were never recorded (NULL)."""
    bots = tables["bots"]
    column = {name: i for i, name in enumerate(bots["columns"])}
    sessions = []
    for row in bots["rows"]:
        started, ended = row[column["started_at"]], row[column["ended_at"]]
        if started is None:
            continue
        status = row[column["status"]]
        reason = None if ended is None else ("error" if status == "error" else "stopped")
        sessions.append(
            {
                "bot_id": row[column["bot_id"]],
                "started_at": started,
                "ended_at": ended,
                "end_reason": reason,
                "total_trades": None,
                "total_pnl": None,
                "metadata": None,
            }
        )
    return sorted(sessions, key=lambda s: s["bot_id"])


#: Tables a later revision created and filled from a release's rows: what they must hold
#: after the upgrade (the fields named; others are not compared), from the release's tables.
DERIVED_TABLES: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "trading_sessions": _first_sessions,
}

#: Tables the upgrade itself writes to: ``migration_history`` gains a row per revision
#: applied (and the downgrade's), beside the release's rows, which must all stay.
GROWING_TABLES = {"migration_history"}


def _expected(release: str, backend: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FROZEN / release / f"expected.{backend}.json").read_text())
    return data


@pytest.fixture(params=RELEASES)
def release(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def frozen_url(
    release: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The release's frozen database, restored where this test may change it."""
    if backend == "sqlite":
        target = tmp_path / "tradestore.sqlite"
        shutil.copyfile(FROZEN / release / "tradestore.sqlite", target)
        yield f"sqlite:///{target}"
        return
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("psql is needed to restore the frozen PostgreSQL dumps")
        pytest.skip("psql not on PATH: the frozen PostgreSQL dumps cannot be restored")
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        env = {**os.environ}
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        subprocess.run(
            [
                psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                "-U", url.username or "postgres", "-d", str(url.database),
                "-f", str(FROZEN / release / "tradestore.pg.sql"),
            ],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        yield url.render_as_string(hide_password=False)
    finally:
        server.drop_database(url)


# --- comparisons ------------------------------------------------------------------------------


def _row_problems(
    name: str,
    expected: dict[str, Any],
    actual: dict[str, Any] | None,
    *,
    upgraded: bool,
    backend: str,
) -> list[str]:
    """What differs between a table as the release left it and as the database holds it."""
    if actual is None:
        return [f"{name}: the table is gone"]
    columns = [RENAMED_COLUMNS.get((name, c), c) for c in expected["columns"]]
    missing = [c for c in columns if c not in actual["columns"]]
    if missing:
        return [f"{name}: columns {missing} are gone (a rename belongs in RENAMED_COLUMNS)"]
    added = [c for c in actual["columns"] if c not in columns]
    if not upgraded and added:
        return [f"{name}: the downgrade left columns {added}"]
    undocumented = [c for c in added if (name, c) not in ADDED_COLUMNS]
    if undocumented:
        return [f"{name}: columns {undocumented} are new: say in ADDED_COLUMNS what old rows hold"]
    index = {c: i for i, c in enumerate(actual["columns"])}
    key = [RENAMED_COLUMNS.get((name, c), c) for c in expected["primary_key"]]

    def key_of(row: list[Any], positions: list[int]) -> str:
        return json.dumps([row[i] for i in positions])

    expected_key = [columns.index(c) for c in key]
    actual_key = [index[c] for c in key]
    actual_rows = {key_of(row, actual_key): row for row in actual["rows"]}
    problems: list[str] = []
    for row in expected["rows"]:
        k = key_of(row, expected_key)
        found = actual_rows.pop(k, None)
        if found is None:
            problems.append(f"{name} {k}: row lost")
            continue
        for column, value in zip(columns, row, strict=True):
            if found[index[column]] != value:
                problems.append(f"{name} {k}.{column}: {value!r} -> {found[index[column]]!r}")
        for column in added:
            spec = ADDED_COLUMNS[(name, column)]
            if callable(spec):
                want = spec(dict(zip(columns, row, strict=True)), backend)
                got = found[index[column]]
                if (_amount(got) if isinstance(want, Decimal) else got) != want:
                    problems.append(
                        f"{name} {k}.{column}: {found[index[column]]!r} for an old row, "
                        f"recomputed {want!r}"
                    )
            elif found[index[column]] != figures.canon(spec):
                problems.append(f"{name} {k}.{column}: {found[index[column]]!r} for an old row")
    if actual_rows and name not in GROWING_TABLES:
        problems.append(f"{name}: rows appeared: {sorted(actual_rows)}")
    return problems


def _derived_problems(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Each table of :data:`DERIVED_TABLES` holds exactly the rows derived from the release's."""
    problems: list[str] = []
    for name, derive in DERIVED_TABLES.items():
        if name in expected:
            continue  # the release had the table: its rows are compared as every table's
        want = derive(expected)
        table = actual.get(name)
        if table is None:
            problems.append(f"{name}: not created")
            continue
        index = {c: i for i, c in enumerate(table["columns"])}
        got = sorted(
            (
                {field: row[index[field]] for field in (want[0] if want else {})}
                for row in table["rows"]
            ),
            key=lambda r: str(r.get("bot_id")),
        )
        if len(table["rows"]) != len(want) or got != want:
            problems.append(f"{name}: rows differ\n  derived: {want}\n  found:   {got}")
    return problems


def _table_problems(
    expected: dict[str, Any], actual: dict[str, Any], *, upgraded: bool, backend: str
) -> list[str]:
    problems: list[str] = []
    for name, table in expected.items():
        problems += _row_problems(name, table, actual.get(name), upgraded=upgraded, backend=backend)
    return problems


def _view_problems(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Each view the release had still returns its rows, column by column; a column that
    follows the wall clock (``figures.CLOCK`` in the expected rows) is not compared."""
    problems: list[str] = []
    for name, view in expected.items():
        now = actual.get(name)
        if now is None:
            problems.append(f"view {name}: gone")
            continue
        columns = view["columns"]
        lost = [c for c in columns if c not in now["columns"]]
        if lost:
            problems.append(f"view {name}: columns {lost} gone")
            continue
        clock = {
            c
            for row in view["rows"]
            for c, v in zip(columns, row, strict=True)
            if v == figures.CLOCK
        }
        kept = [c for c in columns if c not in clock]
        positions = [now["columns"].index(c) for c in kept]
        want = sorted(
            json.dumps([v for c, v in zip(columns, row, strict=True) if c in kept])
            for row in view["rows"]
        )
        got = sorted(json.dumps([row[i] for i in positions]) for row in now["rows"])
        if want != got:
            problems.append(
                f"view {name}: rows differ\n  only in the release: "
                f"{sorted(set(want) - set(got))}\n  only now: {sorted(set(got) - set(want))}"
            )
    return problems


def _as_released(name: str, value: Any) -> Any:
    """Today's reading of figure ``name`` in the release's shape (:data:`FIGURE_MAPPINGS`)."""
    mapping = FIGURE_MAPPINGS.get(name)
    if mapping is None:
        return value
    if isinstance(value, list):
        return [mapping(v) if isinstance(v, dict) else v for v in value]
    return mapping(value) if isinstance(value, dict) else value


def _figure_problems(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every figure equals the release's; a record may have gained fields (not compared)."""
    problems: list[str] = []
    for scope in ("bots", "shared", "sql_functions"):
        want, got = expected[scope], actual[scope]
        if scope == "bots":
            pairs = [
                (f"{bot} {name}", value, got.get(bot, {}).get(name, "<missing>"), name)
                for bot, named in want.items()
                for name, value in named.items()
            ]
        else:
            pairs = [
                (name, value, got.get(name, "<missing>"), name) for name, value in want.items()
            ]
        for label, value, reading, name in pairs:
            now = _as_released(name, reading)
            if not figures.matches(value, now):
                problems.append(f"{label}:\n  release: {value!r}\n  now:     {now!r}")
    return problems


def _read(url: str) -> dict[str, Any]:
    database = Database(url, check_schema=False)
    try:
        with database.engine.connect() as conn:
            return {
                "tables": figures.table_rows(conn, Base.metadata),
                "views": figures.view_rows(conn),
            }
    finally:
        database.dispose()


def _assert_none(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


# --- tests ------------------------------------------------------------------------------------


def test_frozen_database_is_at_the_release_revision(
    release: str, backend: str, frozen_url: str
) -> None:
    """The restore itself is faithful: before any upgrade the current code reads every row and
    view exactly as the release wrote them (otherwise a later failure would blame the upgrade)."""
    expected = _expected(release, backend)
    database = Database(frozen_url, check_schema=False)
    try:
        assert database.current_revision() == expected["revision"]
    finally:
        database.dispose()
    before = _read(frozen_url)
    _assert_none(
        _table_problems(expected["tables"], before["tables"], upgraded=False, backend=backend)
        + _view_problems(expected["views"], before["views"])
    )


def test_upgrade_to_head_keeps_every_row_and_figure(
    release: str, backend: str, frozen_url: str
) -> None:
    expected = _expected(release, backend)
    database = Database(frozen_url, check_schema=False)
    try:
        database.upgrade()
        assert database.current_revision() == head_revision()
    finally:
        database.dispose()
    after = _read(frozen_url)
    problems = _table_problems(expected["tables"], after["tables"], upgraded=True, backend=backend)
    problems += _view_problems(expected["views"], after["views"])
    problems += _derived_problems(expected["tables"], after["tables"])
    with Database(frozen_url) as database:
        problems += _figure_problems(expected["figures"], figures.derived(database))
        # Revision 0011 filled the running totals from the release's closed rows: they equal
        # a recomputation over those rows, bot by bot.
        totals = load("repositories/test_position_totals.py")
        with database.connect() as connection:
            bots = connection.execute(text("SELECT bot_id FROM bots")).scalars().all()
        for bot in bots:
            totals.assert_totals_recomputed(database, bot)
    _assert_none(problems)


def test_downgrade_to_the_release_and_back_keeps_every_row(
    release: str, backend: str, frozen_url: str
) -> None:
    """Down to the release's revision (every downgrade on the way accepts its data: no id is
    shared by two bots, no order is reduce-only), then up again to head."""
    expected = _expected(release, backend)
    database = Database(frozen_url, check_schema=False)
    try:
        database.upgrade()
        database.downgrade(expected["revision"])
        assert database.current_revision() == expected["revision"]
    finally:
        database.dispose()
    down = _read(frozen_url)
    problems = _table_problems(expected["tables"], down["tables"], upgraded=False, backend=backend)
    problems += _view_problems(expected["views"], down["views"])
    with Database(frozen_url, check_schema=False) as database:
        database.upgrade()
    with Database(frozen_url) as database:
        problems += _figure_problems(expected["figures"], figures.derived(database))
    _assert_none(problems)


def test_every_release_directory_is_complete() -> None:
    """A release directory holds both backends' database and expected figures, from the same
    release and revision."""
    assert RELEASES, f"no frozen release under {FROZEN}"
    for release in RELEASES:
        names = {p.name for p in (FROZEN / release).iterdir()}
        assert {
            "tradestore.sqlite",
            "tradestore.pg.sql",
            "expected.sqlite.json",
            "expected.postgresql.json",
        } <= names, release
        sqlite, postgresql = (_expected(release, b) for b in ("sqlite", "postgresql"))
        assert sqlite["release"] == postgresql["release"] == release
        assert sqlite["revision"] == postgresql["revision"]
        assert (sqlite["dialect"], postgresql["dialect"]) == ("sqlite", "postgresql")


def test_frozen_figures_are_not_empty() -> None:
    """The frozen data covers what it claims (so the comparisons above cannot pass vacuously):
    both demo bots, a short left open, closed positions, a late fill on a cancelled order,
    snapshots, metrics, a few hundred episodes, an ensemble."""
    for release in RELEASES:
        for backend in ("sqlite", "postgresql"):
            data = _expected(release, backend)
            tables = data["tables"]
            counts = {name: len(t["rows"]) for name, t in tables.items()}
            assert counts["bots"] == 2
            assert counts["closed_positions"] >= 5
            assert counts["portfolio_snapshots"] >= 10
            assert counts["performance_metrics"] >= 10
            assert counts["training_episodes"] >= 300
            assert counts["ensemble_weights"] >= 2
            positions = tables["positions"]
            side = positions["columns"].index("side")
            assert "short" in {row[side] for row in positions["rows"]}
            orders = tables["orders"]
            status = orders["columns"].index("status")
            filled = orders["columns"].index("filled_quantity")
            assert any(
                row[status] == "cancelled" and row[filled] not in (None, "D:0")
                for row in orders["rows"]
            )


def test_sqlite_restore_is_a_copy(release: str, tmp_path: Path) -> None:
    """The frozen SQLite file is self-contained: no WAL or journal is needed beside it."""
    leftovers = [p.name for p in (FROZEN / release).glob("tradestore.sqlite-*")]
    assert not leftovers
    target = tmp_path / "copy.sqlite"
    shutil.copyfile(FROZEN / release / "tradestore.sqlite", target)
    database = Database(f"sqlite:///{target}", check_schema=False)
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        database.dispose()
