#!/usr/bin/env python3
"""Create or upgrade the tradestore database, then verify it: the init_database command bot
projects expect.

    python scripts/init_database.py [--url URL]

Safe to run any number of times: an up-to-date database is left untouched. Errors are one
line with the password masked, and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import sys

from tradestore.config import mask_text
from tradestore.database import Database
from tradestore.errors import TradestoreError
from tradestore.ops.verify import verify_structure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--url",
        help="database URL (default: TRADESTORE_DATABASE_URL, "
        "DATABASE_URL, sqlite:///data/tradestore.db)",
    )
    parser.add_argument(
        "--partitioning",
        choices=("none", "day", "week", "month", "quarter", "year"),
        help="PostgreSQL: how the history tables are partitioned by time (default: month)",
    )
    args = parser.parse_args(argv)
    try:
        with Database(args.url, check_schema=False) as database:
            before = database.current_revision()
            database.upgrade(partitioning=args.partitioning)
            after = database.current_revision()
            report = verify_structure(database)
            action = (
                "already at head" if before == after else f"upgraded {before or 'empty'} -> {after}"
            )
            print(f"tradestore database {database.safe_url}: {action}")
            for check in report.checks:
                print(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
            return 0 if report.ok else 1
    except (TradestoreError, OSError) as exc:
        print(f"error: {mask_text(str(exc)).splitlines()[0]}", file=sys.stderr)
        return 1
    except Exception as exc:  # a driver error we did not anticipate: still one line
        print(
            f"error: {type(exc).__name__}: {mask_text(str(exc)).splitlines()[0]}", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
