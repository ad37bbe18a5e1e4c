from sqlalchemy import text

from tradestore import Database
from tradestore.migrate import head_revision


def test_db_fixture_is_at_head_and_empty(db: Database) -> None:
    with db.session() as session:
        assert session.execute(text("SELECT COUNT(*) FROM bots")).scalar_one() == 0
    assert db.current_revision() == head_revision()
