"""A bot stand-in: commits (bot ``w-<n>``, its snapshot) transactions until told to stop.

    python ops_writer.py URL STOP_FILE

Prints ``ready`` after the first commit and the last committed number at exit. Run as a
separate process by the backup tests, so the backup competes with a real concurrent writer.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from tradestore import Database
from tradestore.models import Bot, PortfolioSnapshot


def main() -> int:
    url, stop_file = sys.argv[1], Path(sys.argv[2])
    database = Database(url)
    number = 0
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    try:
        while not stop_file.exists():
            number += 1
            bot_id = f"w-{number:07d}"
            with database.engine.begin() as conn:
                conn.execute(insert(Bot), {"bot_id": bot_id})
                conn.execute(
                    insert(PortfolioSnapshot),
                    {
                        "bot_id": bot_id,
                        "snapshot_date": start.date(),
                        "snapshot_time": start,
                        "total_equity": Decimal("1000.5"),
                        "cash_balance": Decimal(number),
                    },
                )
            if number == 1:
                print("ready", flush=True)
    finally:
        database.dispose()
    print(number, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
