"""Exact sums of money columns on both backends.

PostgreSQL adds NUMERIC exactly, so the sum is done there (one row crosses the wire). SQLite's
SUM() adds doubles (0.1 + 0.2 = 0.30000000000000004), so there the values, each exact once
read back through ``Money``, are added in Python as Decimals. Either way the total is a derived
amount and is fitted for the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import func, select

from tradestore.db.executor import Executor
from tradestore.domain.money import MONEY_CONTEXT, fit


def exact_sums(
    session: Executor, dialect: str, columns: Sequence[Any], *criteria: Any
) -> list[Decimal]:
    """SUM of each money column over the rows matching ``criteria``; 0 when there are none."""
    if dialect == "postgresql":
        row = session.execute(select(*(func.sum(c) for c in columns)).where(*criteria)).one()
        return [Decimal(0) if value is None else fit(value, dialect) for value in row]
    totals = [Decimal(0)] * len(columns)
    with localcontext(MONEY_CONTEXT):
        for row in session.execute(select(*columns).where(*criteria)):
            totals = [total + value for total, value in zip(totals, row, strict=True)]
    return [fit(total, dialect) for total in totals]
