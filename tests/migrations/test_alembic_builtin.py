"""pytest-alembic's built-in checks, run once per backend (the fixtures are parametrised).

single head, upgrade base->head, models == DDL after upgrade, and every revision's downgrade
undoing its upgrade.
"""

from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]
