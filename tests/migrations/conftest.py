"""pytest-alembic wiring: its runner uses tradestore's engine set-up on an empty database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_alembic.config import Config
from sqlalchemy.engine import Engine

from tradestore.db.engine import create_engine_for
from tradestore.migrate import alembic_config as tradestore_alembic_config


@pytest.fixture
def alembic_config() -> Config:
    return Config(alembic_config=tradestore_alembic_config())


@pytest.fixture
def alembic_engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_engine_for(fresh_url)
    yield engine
    engine.dispose()
