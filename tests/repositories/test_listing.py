"""One listing convention on both backends: ``Rows``, ``limit=None`` is every row, ``offset``.

Before: ``positions.list_closed``, ``evaluations.list`` and ``training.list`` returned at most
100 rows unless told otherwise, with nothing to say more existed; repositories returned lists
and analytics ``Rows``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tradestore import Database
from tradestore.analytics import Rows

#: One more than the old silent cap.
MANY = 101
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def test_closed_positions_evaluations_and_runs_are_all_listed(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        run_id = uow.training.start_run("PPO", "ppo").run_id
        for i in range(MANY):
            uow.evaluations.record(run_id, "validation", evaluation_date=dt.date(2025, 1, 1))
            if i:
                uow.training.start_run("PPO", f"ppo-{i}")
    with db.unit_of_work(bot_id="alpha") as uow:
        for i in range(MANY):
            position = uow.positions.open(
                "AAPL",
                side="long",
                quantity=Decimal(1),
                entry_price=Decimal(100),
                opened_at=T0 + dt.timedelta(minutes=i),
            )
            uow.positions.close(position.position_id, exit_price=Decimal(101), exit_reason="signal")
    with db.unit_of_work(bot_id="alpha") as uow:
        listings = {
            "closed": uow.positions.list_closed(),
            "evaluations": uow.evaluations.list(),
            "runs": uow.training.list(),
        }
        for name, rows in listings.items():
            assert isinstance(rows, Rows), name
            assert len(rows) == MANY, name
        closed = listings["closed"]
        assert uow.positions.list_closed(limit=10, offset=95) == closed[95:]
        assert uow.positions.list_closed(limit=10) == closed[:10]
        assert len(uow.evaluations.list(limit=100, offset=100)) == 1
        assert len(uow.training.list(offset=MANY)) == 0
        assert uow.training.count() == MANY


def test_every_repository_listing_is_rows(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        run_id = uow.training.start_run("PPO", "ppo").run_id
        uow.training.log_episodes(run_id, [{"episode_number": 0, "episode_reward": 1.0}])
    with db.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="c-1",
            ticker="TSLA",
            side="buy",
            order_type="market",
            quantity=Decimal(1),
        )
        uow.orders.record_fill(
            order.order_id, fill_id="f-1", quantity=Decimal(1), price=Decimal(250)
        )
        uow.snapshots.record(
            snapshot_date=T0.date(), total_equity=Decimal(1000), cash_balance=Decimal(0)
        )
        listings = [
            uow.bots.list(),
            uow.bots.stale(older_than=dt.timedelta(0)),
            uow.positions.list_open(),
            uow.positions.list_closed(),
            uow.positions.best_performers(),
            uow.orders.list_open(),
            uow.orders.fills(order.order_id),
            uow.orders.fill_stats(),
            uow.orders.daily_fill_rate(),
            uow.orders.average_slippage_by_order_type(),
            uow.snapshots.history(),
            uow.snapshots.equity_curve(),
            uow.metrics.history(),
            uow.training.list(),
            uow.training.episodes(run_id),
            uow.training.best("PPO"),
            uow.evaluations.list(),
            uow.ensembles.history("production"),
        ]
        assert all(isinstance(rows, Rows) for rows in listings), [type(r) for r in listings]
        assert [len(rows) for rows in listings[6:9]] == [1, 1, 1]
        episodes = listings[14]
        assert episodes.columns[:2] == ("episode_number", "episode_reward")  # a NamedTuple row
        assert episodes.to_dicts()[0]["episode_reward"] == 1.0
        assert uow.bots.list(limit=1, offset=1) == []
