"""Issue 7, test 1: several writer processes and an analytics reader on one SQLite file.

Every writer submits the same shared orders (idempotent on client_order_id) and then records
its own fills round-robin across them, one ``Database.run`` unit of work per fill, replaying
a fill now and then (as a broker redelivering an event would). A reader process runs the
analytics queries in read transactions the whole time and checks, in every snapshot it sees,
that each order's filled quantity equals the sum of its fills. At the end every fill a
writer saw committed is stored, and every order equals the sum of its fills (quantity, VWAP,
commission, status).

Scale: ``WRITERS`` x ``FILLS_PER_WRITER`` single-fill transactions. The issue asks for
4 x 5,000; on the 2-core CI machine that takes longer than the ~60 s budget of a test
(measured: see docs/reference/reliability.md), so the default is 4 x 2,500 and
``TRADESTORE_RELIABILITY_FILLS=5000`` runs the full size.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import traceback
from decimal import Decimal as D  # noqa: N817
from decimal import localcontext
from pathlib import Path
from typing import Any

import pytest
from reliability_support import record_figure
from sqlalchemy import func, select

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.db.retry import RetryPolicy
from tradestore.domain.enums import OrderStatus
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.models import Bot, Fill, Order

pytestmark = [pytest.mark.reliability, pytest.mark.sqlite_only]

WRITERS = 4
FILLS_PER_WRITER = int(os.environ.get("TRADESTORE_RELIABILITY_FILLS", "2500"))
ORDERS = 100
#: Every REPLAY_EVERY-th fill is delivered twice.
REPLAY_EVERY = 50
BOT = "rel-writers"
TIMEOUT = 240
#: Generous: four processes queue for one write lock; busy_timeout already waits 30 s.
POLICY = RetryPolicy(attempts=10, base_delay=0.01, max_delay=0.5)
START = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def _price(writer: int, k: int) -> D:
    return D("100") + D(writer) / 10 + D(k % 97) / 100


def _filled_at(writer: int, k: int) -> dt.datetime:
    return START + dt.timedelta(milliseconds=writer * 1_000_000 + k)


def _writer(url: str, writer: int, out: str, barrier: Any) -> None:
    committed: list[str] = []
    replays = 0
    try:
        database = Database(url, retry=POLICY)
        barrier.wait(60)
        order_ids: list[str] = []
        for i in range(ORDERS):
            record = database.run(
                lambda uow, i=i: uow.orders.submit(
                    client_order_id=f"shared-{i}",
                    ticker=f"T{i % 7}",
                    side="buy",
                    order_type="market",
                    quantity=D(WRITERS * FILLS_PER_WRITER // ORDERS),
                    reference_price=D("100"),
                    submitted_at=START,
                ),
                bot_id=BOT,
            )
            order_ids.append(record.order_id)
        for k in range(FILLS_PER_WRITER):
            fill_id = f"w{writer}-{k}"
            kwargs: dict[str, Any] = {
                "fill_id": fill_id,
                "quantity": D(1),
                "price": _price(writer, k),
                "commission": D("0.01"),
                "filled_at": _filled_at(writer, k),
            }
            order_id = order_ids[k % ORDERS]
            result = database.run(
                lambda uow, o=order_id, kw=kwargs: uow.orders.record_fill(o, **kw), bot_id=BOT
            )
            assert not result.replayed
            committed.append(fill_id)
            if k % REPLAY_EVERY == 0:
                again = database.run(
                    lambda uow, o=order_id, kw=kwargs: uow.orders.record_fill(o, **kw), bot_id=BOT
                )
                assert again.replayed
                replays += 1
        database.dispose()
    except BaseException:
        Path(out + ".error").write_text(traceback.format_exc())
        raise
    finally:
        Path(out).write_text("\n".join([str(replays), *committed]))


def _reader(url: str, stop: str, out: str, barrier: Any) -> None:
    queries = 0
    try:
        database = Database(url)
        barrier.wait(60)
        while not Path(stop).exists():
            with database.session(readonly=True) as session:
                analytics = Analytics(session, bot_id=BOT)
                stats = analytics.order_fill_stats()
                for row in stats:
                    # one snapshot: an order never shows a fill its total does not include
                    assert row.filled_quantity == row.fill_quantity, row
                analytics.recent_orders(limit=50)
                analytics.daily_fill_rate()
                analytics.slippage_by_order_type()
                analytics.fill_rate_by_symbol()
                analytics.daily_summary(days=7)
                queries += 6
        database.dispose()
    except BaseException:
        Path(out + ".error").write_text(traceback.format_exc())
        raise
    finally:
        Path(out).write_text(str(queries))


def test_writer_processes_and_a_reader_lose_nothing(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    with db.session() as session:
        session.add(Bot(bot_id=BOT))
    db.dispose()  # no inherited connections in the children
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS + 1)
    stop = tmp_path / "stop"
    outs = [str(tmp_path / f"writer-{w}") for w in range(WRITERS)]
    reader_out = str(tmp_path / "reader")
    writers = [
        context.Process(target=_writer, args=(db_url, w, outs[w], barrier)) for w in range(WRITERS)
    ]
    reader = context.Process(target=_reader, args=(db_url, str(stop), reader_out, barrier))
    for process in [*writers, reader]:
        process.start()
    try:
        for process in writers:
            process.join(TIMEOUT)
    finally:
        stop.touch()
        reader.join(60)
        for process in [*writers, reader]:
            if process.is_alive():
                process.kill()
    errors = [
        Path(p + ".error").read_text() for p in [*outs, reader_out] if Path(p + ".error").exists()
    ]
    assert errors == []
    assert [p.exitcode for p in [*writers, reader]] == [0] * (WRITERS + 1)

    committed: set[str] = set()
    replays = 0
    for out in outs:
        first, *ids = Path(out).read_text().split("\n")
        replays += int(first)
        committed.update(ids)
    assert len(committed) == WRITERS * FILLS_PER_WRITER

    with db.session(readonly=True) as session:
        stored = set(session.scalars(select(Fill.fill_id).where(Fill.bot_id == BOT)))
        assert stored == committed  # every committed fill, and nothing else
        assert session.scalar(select(func.count()).select_from(Order)) == ORDERS
        orders = session.scalars(select(Order).where(Order.bot_id == BOT)).all()
        fills = session.scalars(select(Fill).where(Fill.bot_id == BOT)).all()
        by_order: dict[str, list[Fill]] = {}
        for fill in fills:
            by_order.setdefault(fill.order_id, []).append(fill)
        for order in orders:
            mine = by_order[order.order_id]
            quantity = sum((f.quantity for f in mine), D(0))
            assert order.filled_quantity == quantity == order.quantity
            assert order.commission == fit(sum((f.commission for f in mine), D(0)), "sqlite")
            with localcontext(MONEY_CONTEXT):
                vwap = sum((f.quantity * f.price for f in mine), D(0)) / quantity
            assert order.filled_avg_price == fit(vwap, "sqlite")
            assert order.status is OrderStatus.FILLED

    name = "sqlite_writers"
    record_figure(name, "writers", WRITERS)
    record_figure(name, "fills_committed", len(committed))
    record_figure(name, "replays", replays)
    record_figure(name, "reader_queries", int(Path(reader_out).read_text()))
    record_figure(name, "rows_lost", len(committed - stored))
