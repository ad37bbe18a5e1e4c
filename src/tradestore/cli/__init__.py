"""The ``tradestore`` command: migrations, verify, backup, restore, pitr, prune, maintain,
partitions, stats, export, report.

Exit codes: 0 success, 1 a check or operation failed, 2 usage error (click's own). Errors are
one line on stderr with the URL's password masked; ``--debug`` shows the traceback. Tables and
progress bars are drawn with rich; colour only when the output is a terminal. Every command is
a thin layer over ``tradestore.ops``, which scripts can call directly.
"""

from __future__ import annotations

import click

from tradestore.__about__ import __version__
from tradestore.cli._common import handle_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradestore")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def main(debug: bool) -> None:
    """tradestore: the persistence layer for trading bots."""


from tradestore.cli import backup as _backup  # noqa: E402  (commands register on import)
from tradestore.cli import db as _db  # noqa: E402
from tradestore.cli import export as _export  # noqa: E402
from tradestore.cli import maintain as _maintain  # noqa: E402
from tradestore.cli import partitions as _partitions  # noqa: E402
from tradestore.cli import pitr as _pitr  # noqa: E402
from tradestore.cli import report as _report  # noqa: E402
from tradestore.cli import retention as _retention  # noqa: E402
from tradestore.cli import stats as _stats  # noqa: E402

main.add_command(_db.db)
main.add_command(_backup.backup_command)
main.add_command(_backup.restore_command)
main.add_command(_pitr.pitr)
main.add_command(_retention.prune_command)
main.add_command(_maintain.maintain_command)
main.add_command(_partitions.partitions)
main.add_command(_stats.stats_command)
main.add_command(_export.export_command)
main.add_command(_report.report_command)

__all__ = ["handle_errors", "main"]
