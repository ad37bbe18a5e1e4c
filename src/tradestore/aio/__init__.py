"""tradestore for asyncio bots: the group-commit recorder (``AsyncRecorder``), and its sync
twin ``Recorder`` for threaded bots. See docs/guide/asyncio.md."""

from tradestore.aio.recorder import AsyncRecorder, Recorder

__all__ = ["AsyncRecorder", "Recorder"]
