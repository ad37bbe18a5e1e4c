"""Trade attributes on both backends: entry / exit logic and interval on positions and their
closed parts, gross and net P&L, slippage in basis points on closes and orders (every write
path), the slippage-by-order-type read, largest win / loss and the period metrics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tradestore import Database
from tradestore.domain.enums import MetricPeriod
from tradestore.domain.fill_accounting import slippage_bps
from tradestore.domain.metrics import ALL_TIME_START
from tradestore.domain.money import fit
from tradestore.errors import ValidationError

D = Decimal
FILLED = dt.datetime(2024, 3, 13, 15, tzinfo=dt.UTC)
#: A Wednesday.
WEDNESDAY = dt.date(2024, 3, 13)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(10_000))
    return "alpha"


def test_logic_and_interval_follow_the_position_to_every_closed_part(
    db: Database, bot: str
) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        opened = uow.positions.open(
            "BTCUSDT", side="long", quantity=D(4), entry_price=D(100), entry_logic="RSIBBEntry",
            interval="5m", commission=D("0.4"),
        )  # fmt: skip
        pid = opened.position_id
        assert (opened.entry_logic, opened.interval) == ("RSIBBEntry", "5m")
        assert uow.positions.get(pid) == opened
        part = uow.positions.scale_out(pid, quantity=D(1), price=D(110), exit_reason="take_profit",
                                       exit_logic="ATRExit", commission=D("0.1"))  # fmt: skip
        rest = uow.positions.close(pid, exit_price=D(95), exit_reason="stop_loss")
        listed = sorted(uow.positions.list_closed(), key=lambda c: c.closed_position_id)
    assert listed == [part, rest]
    assert [(c.entry_logic, c.exit_logic, c.interval) for c in listed] == [
        ("RSIBBEntry", "ATRExit", "5m"),
        ("RSIBBEntry", None, "5m"),
    ]
    # gross = side x (exit - entry) x quantity; net = gross - commission (entry share + exit).
    assert (part.gross_pnl, part.commission, part.realized_pnl) == (10, D("0.2"), D("9.8"))
    assert (rest.gross_pnl, rest.commission, rest.realized_pnl) == (-15, D("0.3"), D("-15.3"))


def test_a_short_s_gross_pnl_gains_when_the_price_falls(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        pid = uow.positions.open(
            "X", side="short", quantity=D("0.5"), entry_price=D(300)
        ).position_id
        closed = uow.positions.close(pid, exit_price=D("280.5"), exit_reason="manual",
                                     commission=D("0.25"))  # fmt: skip
    assert closed.gross_pnl == D("9.75")
    assert closed.realized_pnl == D("9.5")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("entry_logic", {"entry_logic": ""}),
        ("entry_logic", {"entry_logic": "x" * 101}),
        ("interval", {"interval": "x" * 17}),
        ("interval", {"interval": 5}),
    ],
)
def test_open_refuses_bad_attributes(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.open("X", side="long", quantity=D(1), entry_price=D(1), **kwargs)
    assert caught.value.field == field
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        assert list(uow.positions.list_open()) == []


def test_close_refuses_a_bad_exit_logic_and_writes_nothing(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        opened = uow.positions.open("X", side="long", quantity=D(2), entry_price=D(10))
    for quantity in (None, D(1)):
        with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
            uow.positions.close(opened.position_id, exit_price=D(11), exit_reason="manual",
                                quantity=quantity, exit_logic="x" * 101)  # fmt: skip
        assert caught.value.field == "exit_logic"
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        assert uow.positions.get(opened.position_id) == opened
        assert list(uow.positions.list_closed()) == []


def test_a_close_s_slippage_in_basis_points_of_the_exit_price(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        cheap = uow.positions.open("PENNY", side="long", quantity=D(1000), entry_price=D(2))
        dear = uow.positions.open("BRK", side="long", quantity=D(1), entry_price=D(600_000))
        plain = uow.positions.open("X", side="long", quantity=D(1), entry_price=D(5))
        a = uow.positions.close(cheap.position_id, exit_price=D("2.5"), exit_reason="manual",
                                slippage=D("0.01"))  # fmt: skip
        b = uow.positions.close(dear.position_id, exit_price=D(600_000), exit_reason="manual",
                                slippage=D(-300))  # fmt: skip
        c = uow.positions.close(plain.position_id, exit_price=D(6), exit_reason="manual")
    # A cent on 2.50 is 40 bps; 300 on 600,000 is 5 bps of improvement: comparable at last.
    assert (a.slippage, a.slippage_bps) == (D("0.01"), 40.0)
    assert (b.slippage, b.slippage_bps) == (-300, -5.0)
    assert (c.slippage, c.slippage_bps) == (None, None)
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        stored = {row.ticker: row.slippage_bps for row in uow.positions.list_closed()}
    assert stored == {"PENNY": 40, "BRK": -5, "X": None}


def _filled(db: Database, bot: str, *, use_ingest: bool) -> dict[str, Any]:
    """Three orders filled in two parts each through record_fill or ingest_fills."""
    orders = {
        "lim": {"order_type": "limit", "side": "buy", "limit_price": D(250)},
        "mkt": {"order_type": "market", "side": "sell", "reference_price": D("33.333")},
        "bare": {"order_type": "market", "side": "buy"},
    }
    prices = {"lim": (D("249.8"), D("249.9")), "mkt": (D("33.2"), D("33.4")), "bare": (D(1), D(2))}
    with db.unit_of_work(bot_id=bot) as uow:
        for order_id, kwargs in orders.items():
            uow.orders.submit(client_order_id=f"c-{order_id}", order_id=order_id, ticker="T",
                              quantity=D(3), **kwargs)  # fmt: skip
        fills = [
            {"order_id": order_id, "fill_id": f"{order_id}-{n}", "quantity": D(n + 1),
             "price": price, "filled_at": FILLED}
            for order_id, pair in prices.items()
            for n, price in enumerate(pair)
        ]  # fmt: skip
        if use_ingest:
            uow.orders.ingest_fills(fills)
        else:
            for fill in fills:
                uow.orders.record_fill(**fill)
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        return {order_id: uow.orders.get(order_id) for order_id in orders}


@pytest.mark.parametrize("use_ingest", [False, True], ids=["record_fill", "ingest_fills"])
def test_an_order_s_slippage_in_basis_points_on_every_write_path(
    db: Database, bot: str, use_ingest: bool
) -> None:
    dialect = db.engine.dialect.name
    got = _filled(db, bot, use_ingest=use_ingest)
    lim, mkt, bare = got["lim"], got["mkt"], got["bare"]
    # VWAPs: (249.8 + 2 x 249.9) / 3 = 249.8666...; (33.2 + 2 x 33.4) / 3 = 33.3333...
    assert lim.slippage == fit(lim.filled_avg_price - 250, dialect)
    assert lim.slippage_bps == float(slippage_bps(lim.slippage, D(250)))  # type: ignore[arg-type]
    assert lim.slippage_bps == -5.3333
    assert mkt.slippage == fit(D("33.333") - mkt.filled_avg_price, dialect)
    assert mkt.slippage_bps == float(slippage_bps(mkt.slippage, D("33.333")))  # type: ignore[arg-type]
    assert mkt.slippage_bps == -0.1
    assert (bare.slippage, bare.slippage_bps) == (None, None)


def test_both_write_paths_store_the_same_figure(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("one")
        uow.bots.register("two")
    one = _filled(db, "one", use_ingest=False)
    two = _filled(db, "two", use_ingest=True)
    assert {k: v.slippage_bps for k, v in one.items()} == {
        k: v.slippage_bps for k, v in two.items()
    }


def test_the_rounding_rule_of_basis_points() -> None:
    """4 decimals, ties away from zero, exact: the SQL follows the same integer steps."""
    assert slippage_bps(D("0.000000005"), D(1)) == D("0.0001")  # exactly half a step
    assert slippage_bps(D("-0.000000005"), D(1)) == D("-0.0001")
    assert slippage_bps(D("0.0000000049"), D(1)) == 0
    assert slippage_bps(D(1), D(3)) == D("3333.3333")
    assert slippage_bps(D(2), D(3)) == D("6666.6667")
    assert slippage_bps(None, D(3)) is None
    assert slippage_bps(D(1), None) is None


def test_slippage_by_order_type_averages_the_basis_points(db: Database, bot: str) -> None:
    got = _filled(db, bot, use_ingest=False)
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        rows = {row.order_type: row for row in uow.analytics.slippage_by_order_type()}
        assert list(uow.orders.average_slippage_by_order_type()) == list(rows.values())
    assert rows["limit"].avg_slippage_bps == got["lim"].slippage_bps
    assert rows["market"].avg_slippage_bps == got["mkt"].slippage_bps
    assert rows["market"].orders == 1


def test_a_tiny_reference_price_does_not_refuse_the_fill(db: Database, bot: str) -> None:
    """0.01 of slippage on a reference of 1e-18 is 1e20 bps, more than a money column holds:
    the figure is a ratio, stored as a double, and the fill goes in."""
    with db.unit_of_work(bot_id=bot) as uow:
        uow.orders.submit(client_order_id="c-t", order_id="t", ticker="DUST", side="buy",
                          order_type="limit", quantity=D(1), limit_price=D("1E-18"))  # fmt: skip
        done = uow.orders.record_fill("t", fill_id="f-t", quantity=D(1),
                                      price=D("0.01")).order  # fmt: skip
    assert done.slippage == fit(D("0.01") - D("1E-18"), db.engine.dialect.name)
    assert done.slippage_bps == float(slippage_bps(done.slippage, D("1E-18")))  # type: ignore[arg-type]
    assert done.slippage_bps == pytest.approx(1e20)


# --- metrics ---------------------------------------------------------------------------------


def _trade(db: Database, bot: str, pnl: str, day: dt.date, strategy: str | None = None) -> None:
    closed = dt.datetime.combine(day, dt.time(15), dt.UTC)
    with db.unit_of_work(bot_id=bot) as uow:
        pid = uow.positions.open("X", side="long", quantity=D(1), entry_price=D(100),
                                 strategy=strategy, opened_at=closed - dt.timedelta(hours=1),
                                 ).position_id  # fmt: skip
        uow.positions.close(pid, exit_price=D(100) + D(pnl), exit_reason="manual",
                            closed_at=closed)  # fmt: skip


def test_compute_stores_largest_win_and_loss_of_the_window(db: Database, bot: str) -> None:
    for pnl, back in (("5", 1), ("12.5", 2), ("-3", 3), ("-7.25", 4), ("40", 45)):
        _trade(db, bot, pnl, WEDNESDAY - dt.timedelta(days=back))
    with db.unit_of_work(bot_id=bot) as uow:
        row = uow.metrics.compute(WEDNESDAY)
        assert uow.metrics.get(WEDNESDAY) == row
    # The 40 closed 45 days back is outside the 30-day window.
    assert (row.largest_win_30d, row.largest_loss_30d) == (D("12.5"), D("-7.25"))
    assert row.total_trades_30d == 4


def test_compute_periods_counts_each_period_up_to_as_of(db: Database, bot: str) -> None:
    trades = {
        WEDNESDAY: ("3", "-1"),
        WEDNESDAY - dt.timedelta(days=1): ("10",),  # Tuesday, same ISO week
        WEDNESDAY - dt.timedelta(days=3): ("-4",),  # Sunday, the week before, same month
        dt.date(2024, 2, 20): ("25", "-8"),  # last month
        WEDNESDAY + dt.timedelta(days=1): ("1000",),  # after as_of: in no row
    }
    for day, pnls in trades.items():
        for pnl in pnls:
            _trade(db, bot, pnl, day, strategy="s1" if pnl == "10" else None)
    with db.unit_of_work(bot_id=bot) as uow:
        rows = uow.metrics.compute_periods(WEDNESDAY)
    by = {row.period: row for row in rows}
    assert [row.period for row in rows] == list(MetricPeriod)
    assert {p: by[p].period_start for p in by} == {
        MetricPeriod.DAILY: WEDNESDAY,
        MetricPeriod.WEEKLY: dt.date(2024, 3, 11),
        MetricPeriod.MONTHLY: dt.date(2024, 3, 1),
        MetricPeriod.ALL_TIME: ALL_TIME_START,
    }
    assert {p: by[p].as_of for p in by} == dict.fromkeys(by, WEDNESDAY)
    expected = {
        MetricPeriod.DAILY: ("3", "-1"),
        MetricPeriod.WEEKLY: ("3", "-1", "10"),
        MetricPeriod.MONTHLY: ("3", "-1", "10", "-4"),
        MetricPeriod.ALL_TIME: ("3", "-1", "10", "-4", "25", "-8"),
    }
    for period, pnls in expected.items():
        values = [D(p) for p in pnls]
        wins = [v for v in values if v > 0]
        losses = [v for v in values if v < 0]
        row = by[period]
        assert (row.total_trades, row.winning_trades, row.losing_trades) == (
            len(values),
            len(wins),
            len(losses),
        ), period
        assert row.net_pnl == sum(values), period
        assert (row.largest_win, row.largest_loss) == (max(wins), min(losses)), period
        assert row.win_rate == len(wins) / len(values), period
        assert row.profit_factor == float(sum(wins) / -sum(losses)), period
    with db.unit_of_work(bot_id=bot) as uow:
        strategy = {r.period: r for r in uow.metrics.compute_periods(WEDNESDAY, strategy="s1")}
    assert strategy[MetricPeriod.DAILY].total_trades == 0
    assert strategy[MetricPeriod.DAILY].net_pnl == 0
    assert strategy[MetricPeriod.DAILY].largest_win is None
    assert strategy[MetricPeriod.WEEKLY].largest_win == 10


def test_a_later_day_of_the_period_replaces_its_row(db: Database, bot: str) -> None:
    _trade(db, bot, "2", WEDNESDAY)
    _trade(db, bot, "5", WEDNESDAY + dt.timedelta(days=2))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.metrics.compute_periods(WEDNESDAY)
        uow.metrics.compute_periods(WEDNESDAY + dt.timedelta(days=2))
        weekly = uow.metrics.period_history("weekly")
        daily = uow.metrics.period_history(MetricPeriod.DAILY)
        found = uow.metrics.find_period("weekly", WEDNESDAY - dt.timedelta(days=2))
        assert uow.metrics.find_period("monthly", dt.date(2024, 4, 1)) is None
        assert uow.metrics.find_period("all_time", dt.date(1999, 1, 1)) is not None
    assert [(r.period_start, r.as_of, r.net_pnl) for r in weekly] == [
        (dt.date(2024, 3, 11), WEDNESDAY + dt.timedelta(days=2), 7)
    ]
    assert found == weekly[0]
    assert [(r.period_start, r.net_pnl) for r in daily] == [
        (WEDNESDAY, 2),
        (WEDNESDAY + dt.timedelta(days=2), 5),
    ]
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        window = uow.metrics.period_history(
            "daily", start=WEDNESDAY + dt.timedelta(days=1), end=WEDNESDAY + dt.timedelta(days=9)
        )
        assert [r.net_pnl for r in window] == [5]


def test_period_reads_refuse_an_unknown_period(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        for call in (
            lambda: uow.metrics.find_period("hourly", WEDNESDAY),
            lambda: uow.metrics.period_history("quarterly"),
        ):
            with pytest.raises(ValidationError) as caught:
                call()
            assert caught.value.field == "period"
