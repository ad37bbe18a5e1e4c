"""tradestore for asyncio programs: the same repositories, awaited, and the event recorder.

    from tradestore.aio import AsyncDatabase, AsyncRecorder

    db = AsyncDatabase.from_env()
    async with db.unit_of_work(bot_id="alpha") as uow:
        order = await uow.orders.submit(client_order_id="c-1", ...)
        await uow.orders.record_fill(order.order_id, fill_id="f-1", ...)

``AsyncDatabase`` needs ``pip install 'tradestore[async]'`` (aiosqlite, asyncpg, greenlet).
The recorders (``AsyncRecorder`` for asyncio, ``Recorder`` for threaded bots) write through
the sync ``Database`` on a thread of their own and need no extra. See docs/guide/asyncio.md.
"""

from tradestore.aio.database import AsyncDatabase
from tradestore.aio.recorder import AsyncRecorder, Recorder
from tradestore.aio.unit_of_work import AsyncRepository, AsyncRows, AsyncUnitOfWork

__all__ = [
    "AsyncDatabase",
    "AsyncRecorder",
    "AsyncRepository",
    "AsyncRows",
    "AsyncUnitOfWork",
    "Recorder",
]
