"""Bad arguments to Analytics raise ValidationError naming the field; nothing is queried."""

from __future__ import annotations

import datetime as dt

import pytest

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.errors import NaiveDatetimeError, ValidationError


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a: a.best_performers(limit=0), "limit"),
        (lambda a: a.recent_closed_trades(limit=101), "limit"),  # the view keeps 100
        (lambda a: a.recent_orders(limit=-1), "limit"),
        (lambda a: a.daily_summary(days=-1), "days"),
        (lambda a: a.daily_fill_rate(days=True), "days"),
        (lambda a: a.fill_rate(""), "ticker"),
        (lambda a: a.fill_rate("AAPL", days=1.5), "days"),
        (lambda a: a.agent_leaderboard(evaluation_type="holdout"), "evaluation_type"),
        (lambda a: a.best_hyperparameters(algorithm=""), "algorithm"),
        (lambda a: a.training_summary(status="done"), "status"),
        (lambda a: a.equity_curve(start=dt.datetime(2026, 1, 1)), "start"),  # naive
        (lambda a: a.ensemble_weight_history(ensemble_id=""), "ensemble_id"),
        (lambda a: a.current_risk(strategy=""), "strategy"),
    ],
)
def test_bad_arguments_name_the_field(db: Database, call, field: str):
    with db.session(readonly=True) as session, pytest.raises(ValidationError) as raised:
        call(Analytics(session, bot_id="alpha"))
    assert raised.value.field == field


def test_naive_now_is_refused(db: Database):
    with db.session(readonly=True) as session, pytest.raises(NaiveDatetimeError):
        Analytics(session).slippage_analysis(now=dt.datetime(2026, 1, 1))


def test_bot_id_is_validated(db: Database):
    with db.session(readonly=True) as session, pytest.raises(ValidationError) as raised:
        Analytics(session, bot_id="   ")
    assert raised.value.field == "bot_id"


def test_enum_arguments_accept_values(db: Database):
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        assert len(analytics.agent_leaderboard(evaluation_type="validation")) == 0
        assert len(analytics.best_hyperparameters(algorithm="SAC")) == 0
