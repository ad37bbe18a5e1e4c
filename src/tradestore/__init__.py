"""tradestore: the persistence layer for trading bots.

from tradestore import Database
db = Database.from_env()
db.upgrade()
with db.unit_of_work(bot_id="alpha") as uow:
    ...

``__all__`` is the surface a bot author needs without knowing the package's layout: the
database, the retry policy ``Database.run`` takes, and the errors. tests/test_public_api.py
pins it and checks that each name is documented.
"""

from tradestore import errors
from tradestore.__about__ import __version__
from tradestore.database import Database
from tradestore.db.retry import RetryPolicy
from tradestore.errors import TradestoreError

__all__ = ["Database", "RetryPolicy", "TradestoreError", "__version__", "errors"]
