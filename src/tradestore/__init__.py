"""tradestore: the persistence layer for trading bots.

from tradestore import Database
db = Database.from_env()
db.upgrade()
with db.unit_of_work(bot_id="alpha") as uow:
    ...
"""

from tradestore.__about__ import __version__
from tradestore.database import Database
from tradestore.errors import TradestoreError

__all__ = ["Database", "TradestoreError", "__version__"]
