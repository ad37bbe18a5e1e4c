"""Every pooled connection held: the caller gets tradestore's error naming the pool
settings, not SQLAlchemy's raw ``TimeoutError``."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.db.retry import NO_RETRY, RetryPolicy
from tradestore.errors import TransientDatabaseError

pytestmark = pytest.mark.reliability


@pytest.mark.postgres_only
def test_an_exhausted_pool_names_its_settings(db_url: str) -> None:
    db = Database(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with db.unit_of_work(readonly=True) as uow:
            uow.executor.execute(text("SELECT 1"))
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with (
            pytest.raises(TransientDatabaseError, match="pool_timeout") as caught,
            db.unit_of_work(readonly=True, retry=NO_RETRY),
        ):
            pass
        assert "pool_size" in str(caught.value)
        assert "max_overflow" in str(caught.value)
        with (
            pytest.raises(TransientDatabaseError, match="after 2 attempt"),  # retried
            db.unit_of_work(retry=RetryPolicy(attempts=2, base_delay=0.001)),
        ):
            pass
        with pytest.raises(TransientDatabaseError, match="pool_size"), db.connect():
            pass
    finally:
        release.set()
        thread.join()
        db.dispose()
