"""``tradestore backup`` and ``tradestore restore``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from tradestore.cli._common import (
    EXIT_FAILED,
    console,
    handle_errors,
    human_bytes,
    open_database,
    progress_bar,
    url_option,
)
from tradestore.cli.db import print_verify_report
from tradestore.ops.backup import DEFAULT_BACKUP_DIR

pg_bin_option = click.option(
    "--pg-bin",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="TRADESTORE_PG_BIN",
    help="Directory of pg_dump/pg_restore (default: PATH). Env: TRADESTORE_PG_BIN.",
)


@click.command("backup")
@url_option
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_BACKUP_DIR,
    show_default=True,
    help="Where backups are written.",
)
@click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Delete this database's backups older than this many days (0 keeps all).",
)
@pg_bin_option
@handle_errors
def backup_command(url: str | None, directory: Path, keep_days: int, pg_bin: Path | None) -> None:
    """Write a consistent, compressed, verified backup (file mode 0600).

    SQLite: the online backup API from one snapshot (safe while bots write), gzip-compressed,
    decompressed again and checked with integrity_check. PostgreSQL: pg_dump custom format,
    checked with pg_restore --list and a full read.
    """
    from tradestore.ops.backup import backup_database

    with open_database(url) as database, progress_bar() as progress:
        result = backup_database(
            database, directory=directory, keep_days=keep_days, progress=progress, pg_bin=pg_bin
        )
    info = result.backup
    out = console()
    size = human_bytes(info.size_bytes)
    if info.database_bytes is not None:
        size += f", database {human_bytes(info.database_bytes)}"
    out.print(
        f"[green]backup written and verified:[/] {escape(str(info.path))} "
        f"({size}, revision {info.revision or '<none>'}, {result.seconds:.1f}s)"
    )
    for path in result.pruned:
        out.print(f"pruned (older than {keep_days} days): {escape(str(path))}")


@click.command("restore")
@url_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the database's content is replaced.")
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_BACKUP_DIR,
    show_default=True,
    help="Where the safety backup of the current database goes.",
)
@click.option(
    "--no-safety-backup",
    is_flag=True,
    help="Do not back up the current database first (e.g. when it is corrupt).",
)
@pg_bin_option
@handle_errors
def restore_command(
    url: str | None,
    file: Path,
    yes: bool,
    backup_dir: Path,
    no_safety_backup: bool,
    pg_bin: Path | None,
) -> None:
    """Replace the database's content with the backup FILE (needs --yes).

    The file is verified first (a damaged one is refused and nothing is touched), then a
    safety backup of the current database is taken, then the backup is restored atomically,
    verified, and the row counts are printed. Exit status 1 if verify fails afterwards.
    """
    from tradestore.ops.restore import restore_database

    if not yes:
        raise click.UsageError("restore replaces every row of the database: pass --yes to confirm")
    with open_database(url, create=True) as database, progress_bar() as progress:
        result = restore_database(
            database,
            file,
            backup_dir=backup_dir,
            safety_backup=not no_safety_backup,
            progress=progress,
            pg_bin=pg_bin,
        )
    out = console()
    if result.safety_backup is not None:
        out.print(f"safety backup of the previous database: {escape(str(result.safety_backup))}")
    out.print(
        f"[green]restored[/] {escape(str(file))} (revision {result.source.revision}) into "
        f"{escape(result.verify.database)} in {result.seconds:.1f}s"
    )
    counts = Table("table", "rows", title="row counts")
    for name, rows in result.row_counts.items():
        counts.add_row(name, f"{rows:,}")
    out.print(counts)
    print_verify_report(result.verify)
    if not result.ok:
        sys.exit(EXIT_FAILED)
