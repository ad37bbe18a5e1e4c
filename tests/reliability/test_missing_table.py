"""A table missing from a database that claims to be at head is a schema error, not an outage.

Before, every ``OperationalError`` became ``DatabaseUnavailable``: SQLite's "no such table"
sent an operator after the network instead of the migration, and on PostgreSQL
(``UndefinedTable`` is a ``ProgrammingError``) it surfaced as a bare ``TradestoreError``.
The table is renamed away (and back) rather than dropped, so the views that use it survive
on PostgreSQL's shared per-session database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tradestore import Database
from tradestore.errors import DatabaseUnavailable, SchemaError

pytestmark = pytest.mark.reliability


def test_a_missing_table_is_a_schema_error_naming_the_upgrade(db: Database, db_url: str) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE ensemble_weights RENAME TO ensemble_weights_away"))
        with pytest.raises(SchemaError, match="tradestore db upgrade") as raised:  # noqa: SIM117
            with db.unit_of_work() as uow:
                uow.ensembles.current("e-1")
        assert not isinstance(raised.value, DatabaseUnavailable)
        with db.unit_of_work() as uow:  # the rest of the database still works
            assert uow.bots.get("alpha").bot_id == "alpha"
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE ensemble_weights_away RENAME TO ensemble_weights"))
        engine.dispose()
