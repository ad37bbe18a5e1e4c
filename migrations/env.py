"""Alembic environment for tradestore: all the work is in tradestore.migrate (typed, tested)."""

from logging.config import fileConfig
from typing import cast

from alembic import context
from alembic.runtime.environment import EnvironmentContext

from tradestore.migrate import run_environment

# An application's alembic.ini holding a [tradestore] section (``alembic -n tradestore``) may
# have no logging sections at all; fileConfig would fail on it with a bare KeyError.
if (
    context.config.config_file_name is not None
    and context.config.attributes.get("configure_logger", True)
    and context.config.file_config.has_section("loggers")
):
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_environment(cast(EnvironmentContext, context))
