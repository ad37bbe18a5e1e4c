"""Alembic environment for tradestore: all the work is in tradestore.migrate (typed, tested)."""

from logging.config import fileConfig
from typing import cast

from alembic import context
from alembic.runtime.environment import EnvironmentContext

from tradestore.migrate import run_environment

if context.config.config_file_name is not None and context.config.attributes.get(
    "configure_logger", True
):
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_environment(cast(EnvironmentContext, context))
