"""The recording process the SIGKILL test kills: an asyncio stream into an AsyncRecorder.

    python recording_writer.py URL BOT

Orders of 5 fills each, fills handed over by many tasks at once (so groups are in flight
when the kill lands); each fill_id is printed only after its ``await`` returned, that is
once it is committed. Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from tradestore import Database
from tradestore.aio import AsyncRecorder

FILLS_PER_ORDER = 5


async def order_stream(rec: AsyncRecorder, n: int) -> None:
    order = await rec.submit(
        client_order_id=f"c{n}",
        ticker="ETH/USDT",
        side="buy",
        order_type="market",
        quantity=Decimal(FILLS_PER_ORDER),
    )
    for i in range(FILLS_PER_ORDER):
        fill_id = f"c{n}-f{i}"
        await rec.record_fill(
            order.order_id, fill_id=fill_id, quantity=Decimal(1), price=Decimal("2000.5")
        )
        sys.stdout.write(fill_id + "\n")
    sys.stdout.flush()


async def main(url: str, bot_id: str) -> None:
    rec = AsyncRecorder(Database(url), bot_id=bot_id)
    n = 0
    while True:
        await asyncio.gather(*(order_stream(rec, n + k) for k in range(50)))
        n += 50


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
