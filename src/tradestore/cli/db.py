"""``tradestore db ...``: migrations (the migrate runner), verify and rebuild-totals."""

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
    json_option,
    open_database,
    print_json,
    progress_bar,
    url_option,
    when,
)
from tradestore.db.partitioning import INTERVALS
from tradestore.ops.verify import VerifyReport

backup_dir_option = click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Take a verified backup into this directory before migrating.",
)


@click.group()
def db() -> None:
    """Schema migrations, status and verification."""


def _backup_first(database: object, directory: Path | None) -> None:
    if directory is None:
        return
    from tradestore.ops.backup import backup_database

    with progress_bar() as progress:
        result = backup_database(database, directory=directory, keep_days=None, progress=progress)  # type: ignore[arg-type]
    console().print(
        f"backup: {result.backup.path} ({human_bytes(result.backup.size_bytes)}, verified)"
    )


@db.command()
@url_option
@click.argument("revision", default="head")
@backup_dir_option
@click.option(
    "--partitioning",
    type=click.Choice(("none", *INTERVALS)),
    help="How revision 0016 partitions fills and snapshots on PostgreSQL (default: month); "
    "only when 0016 runs.",
)
@handle_errors
def upgrade(
    url: str | None, revision: str, backup_dir: Path | None, partitioning: str | None
) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    with open_database(url, create=True) as database:
        _backup_first(database, backup_dir)
        before = database.current_revision()
        database.upgrade(revision, partitioning=partitioning)
        after = database.current_revision()
        state = "already at" if before == after else f"{before or 'empty'} ->"
        console().print(f"{database.safe_url}: {state} {after or 'base'}")


@db.command()
@url_option
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@backup_dir_option
@handle_errors
def downgrade(url: str | None, revision: str, yes: bool, backup_dir: Path | None) -> None:
    """Downgrade the schema to REVISION ('base' removes every tradestore table)."""
    with open_database(url) as database:
        if not yes:
            if revision == "base":
                raise click.UsageError("downgrade to base drops all data: pass --yes to confirm")
            click.confirm(
                f"Downgrade {database.safe_url} to {revision}? Data in dropped tables is lost",
                abort=True,
            )
        _backup_first(database, backup_dir)
        before = database.current_revision()
        database.downgrade(revision)
        console().print(
            f"{database.safe_url}: {before or 'empty'} -> {database.current_revision() or 'base'}"
        )


@db.command()
@url_option
@handle_errors
def current(url: str | None) -> None:
    """Print the database's revision and whether it is at head."""
    from tradestore.migrate import head_revision

    with open_database(url) as database:
        revision = database.current_revision()
        head = head_revision()
        state = "head" if revision == head else ("empty" if revision is None else f"behind {head}")
        console().print(f"{revision or '<none>'} ({state})")


@db.command()
@handle_errors
def history() -> None:
    """List tradestore's revisions, oldest first."""
    from tradestore.migrate import script_directory

    table = Table("revision", "revises", "description")
    for script in reversed(list(script_directory().walk_revisions())):
        down = script.down_revision
        table.add_row(script.revision, str(down) if down else "-", script.doc or "")
    console().print(table)


@db.command("alembic-config")
@handle_errors
def alembic_config_command() -> None:
    """Print the path of an alembic.ini for tradestore's migrations.

    For plain Alembic from any directory: alembic -c "$(tradestore db alembic-config)"
    upgrade head. The URL comes from TRADESTORE_DATABASE_URL (or -x url=...), never the file.
    """
    click.echo(str(alembic_ini()))


def alembic_ini() -> Path:
    """The alembic.ini that finds this installation's migrations.

    Installed from a wheel, the one shipped in the package (``script_location =
    tradestore:_migrations``); run from a checkout, where the migrations are the checkout's
    ``migrations/`` folder and that package resource does not exist, the checkout's own.
    """
    from importlib import resources

    from tradestore.migrate import script_location

    package = Path(str(resources.files("tradestore")))
    if script_location() == package / "_migrations":
        return package / "alembic.ini"
    return script_location().parent / "alembic.ini"


@db.command()
@url_option
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(min=0), help="History rows."
)
@json_option
@handle_errors
def status(url: str | None, limit: int, as_json: bool) -> None:
    """Current revision, pending revisions and the latest migration_history entries.

    Exit status 1 when the database is not at head.
    """
    from tradestore.ops.status import schema_status

    with open_database(url) as database:
        result = schema_status(database, history_limit=limit)
    if as_json:
        print_json(result)
    else:
        out = console()
        out.print(f"database: {escape(result.database)}")
        if not result.known:
            state = f"[red]unknown to this tradestore[/] (its head is {result.head})"
        elif result.up_to_date:
            state = "[green]at head[/]"
        else:
            state = f"[yellow]behind head {result.head}[/]"
        out.print(f"current:  {result.current or '<none>'} ({state})")
        if result.pending:
            listed = ", ".join(f"{p.revision} ({p.description})" for p in result.pending)
            out.print(f"pending:  {escape(listed)}")
            out.print("          run `tradestore db upgrade` to apply them")
        else:
            out.print("pending:  none")
        if result.history:
            table = Table(
                "applied at",
                "revision",
                "name",
                "status",
                "seconds",
                "error",
                title="migration_history (newest first)",
            )
            for entry in result.history:
                colour = {"applied": "green", "failed": "red"}.get(entry.status, "yellow")
                table.add_row(
                    when(entry.applied_at),
                    entry.migration_id,
                    escape(entry.migration_name),
                    f"[{colour}]{entry.status}[/]",
                    f"{entry.duration_seconds:.3f}" if entry.duration_seconds is not None else "-",
                    escape(entry.error_message.splitlines()[0]) if entry.error_message else "",
                )
            out.print(table)
        else:
            out.print("history:  no migration_history entries")
    if not result.up_to_date:
        sys.exit(EXIT_FAILED)


@db.command("verify")
@url_option
@click.option("--quick", is_flag=True, help="SQLite: quick_check instead of integrity_check.")
@json_option
@handle_errors
def verify_command(url: str | None, quick: bool, as_json: bool) -> None:
    """Check that the database is what tradestore expects; exit 1 if anything is wrong.

    Revision at head, schema equal to the models (Alembic compare), CHECK constraints and
    views present, the running totals equal to closed_positions' sums, SQLite
    integrity_check and foreign_key_check, PostgreSQL: no invalid constraints or indexes.
    """
    from tradestore.ops.verify import verify_database as run_verify

    with open_database(url) as database:
        report = run_verify(database, quick=quick)
    if as_json:
        print_json(report)
    else:
        print_verify_report(report)
    if not report.ok:
        sys.exit(EXIT_FAILED)


def print_verify_report(report: VerifyReport) -> None:
    table = Table("check", "result", "detail", title=escape(f"verify {report.database}"))
    for check in report.checks:
        table.add_row(
            check.name, "[green]ok[/]" if check.ok else "[bold red]FAIL[/]", escape(check.detail)
        )
    out = console()
    out.print(table)
    if report.ok:
        out.print("[green]verify: all checks passed[/]")
    else:
        names = ", ".join(check.name for check in report.failures)
        out.print(f"[bold red]verify: {len(report.failures)} failed[/] ({names})")


@db.command("rebuild-totals")
@url_option
@click.option("--bot", "bot_id", metavar="ID", help="Rebuild only this bot's totals.")
@click.option("--dry-run", is_flag=True, help="Name the keys that differ; write nothing.")
@json_option
@handle_errors
def rebuild_totals_command(
    url: str | None, bot_id: str | None, dry_run: bool, as_json: bool
) -> None:
    """Recompute the running totals (position_totals) from closed_positions, in one transaction.

    Only the keys (bot, ticker, strategy) that differ are rewritten. Safe while bots write:
    on PostgreSQL position_totals and closed_positions are locked SHARE ROW EXCLUSIVE (reads
    go on, closes and prunes wait for the commit); on SQLite the write lock is held. With
    --dry-run, exit status 1 when a key differs (what `db verify` reports).
    """
    from tradestore.ops.totals import rebuild_totals

    with open_database(url) as database:
        report = rebuild_totals(database, bot_id=bot_id, dry_run=dry_run)
    if as_json:
        print_json(report)
    else:
        out = console()
        scope = f"bot {report.bot_id}" if report.bot_id is not None else "every bot"
        if report.differences:
            verb = "differ (dry run, nothing written)" if dry_run else "rewritten"
            out.print(f"position_totals of {escape(scope)}: {len(report.differences)} keys {verb}")
            for difference in report.differences:
                out.print(f"  {escape(difference.describe())}")
        else:
            out.print(
                f"position_totals of {escape(scope)}: all {report.keys} keys equal "
                "closed_positions' sums"
            )
    if dry_run and not report.ok:
        sys.exit(EXIT_FAILED)
