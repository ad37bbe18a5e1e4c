"""tradestore for asyncio programs: the same repositories, awaited.

    from tradestore.aio import AsyncDatabase

    db = AsyncDatabase.from_env()
    async with db.unit_of_work(bot_id="alpha") as uow:
        order = await uow.orders.submit(client_order_id="c-1", ...)
        await uow.orders.record_fill(order.order_id, fill_id="f-1", ...)

Needs ``pip install 'tradestore[async]'`` (aiosqlite, asyncpg, greenlet).
"""

from tradestore.aio.database import AsyncDatabase
from tradestore.aio.unit_of_work import AsyncRepository, AsyncRows, AsyncUnitOfWork

__all__ = ["AsyncDatabase", "AsyncRepository", "AsyncRows", "AsyncUnitOfWork"]
