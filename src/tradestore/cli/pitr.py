"""``tradestore pitr``: WAL archiving, base backups and restore to a point in time (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from tradestore.cli._common import (
    console,
    handle_errors,
    open_database,
    parse_or_usage,
    progress_bar,
    url_option,
    when,
)
from tradestore.cli.backup import pg_bin_option
from tradestore.ops.pitr import TARGET_ACTIONS
from tradestore.ops.timespec import parse_instant

archive_option = click.option(
    "--wal-archive",
    "wal_archive",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The WAL archive directory (absolute path).",
)


@click.group("pitr")
def pitr() -> None:
    """Point-in-time recovery on PostgreSQL: archive WAL, take base backups, restore to a time.

    See docs/operations/point-in-time-recovery.md for the whole procedure.
    """


@pitr.command("setup")
@archive_option
@click.option("--url", default=None, metavar="URL", help="Also show what this server does now.")
@handle_errors
def setup_command(wal_archive: Path, url: str | None) -> None:
    """Print the postgresql.conf lines that archive WAL into --wal-archive.

    archive_mode needs a server restart. The archive directory must exist and be writable
    by the server's OS user. With --url (or the environment's URL), the server's current
    settings and the archiver's progress are shown too.
    """
    from tradestore.ops.pitr import archive_settings, archive_state

    state = None
    if url is not None:
        with open_database(url) as database:
            state = archive_state(database)
    settings = archive_settings(
        wal_archive.absolute(), wal_level=state.wal_level if state is not None else "replica"
    )
    # Plain echo, never wrapped: these lines are pasted into postgresql.conf as they are.
    click.echo("# postgresql.conf (or ALTER SYSTEM SET ...), then restart the server")
    if state is None:
        click.echo("# (keep wal_level = 'logical' if the server has it)")
    for name, value in settings.items():
        quoted = value.replace("'", "''")
        click.echo(f"{name} = '{quoted}'")
    if state is None:
        return
    console().print(
        f"# {escape(database.safe_url)}: archive_mode={state.archive_mode}, "
        f"wal_level={state.wal_level}, archive_command={escape(state.archive_command)!r}, "
        f"last archived {state.last_archived_wal or '-'}, failures {state.failed_count}"
        + ("" if state.archiving else " [yellow](not archiving)[/]")
        + (" [red](its last attempt failed)[/]" if state.failing else ""),
        soft_wrap=True,
    )


@pitr.command("base-backup")
@url_option
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) directory for the base backup.",
)
@click.option(
    "--without-archive",
    is_flag=True,
    help="Take it even though the server does not archive WAL (it then restores only to its end).",
)
@pg_bin_option
@handle_errors
def base_backup_command(
    url: str | None, to: Path, without_archive: bool, pg_bin: Path | None
) -> None:
    """Take a verified base backup (pg_basebackup, checked by pg_verifybackup) into --to.

    The connection needs the REPLICATION privilege and a replication line in pg_hba.conf.
    Refused when the server does not archive its WAL (see `tradestore pitr setup`).
    """
    from tradestore.ops.pitr import base_backup

    with open_database(url) as database, progress_bar() as progress:
        info = base_backup(
            database,
            to,
            pg_bin=pg_bin,
            require_archiving=not without_archive,
            progress=progress,
        )
    out = console()
    out.print(
        f"[green]base backup written and verified:[/] {escape(str(info.path))} "
        f"(PostgreSQL {info.server_version}, ended {when(info.finished_at)} at WAL "
        f"{info.end_lsn}: restorable to any later time the archive covers)"
    )
    if info.config_file is not None:
        if info.config_copied:
            out.print(
                f"the server's configuration ({escape(info.config_file)}, outside its data "
                f"directory) was copied into {escape(str(info.config))}"
            )
        else:
            out.print(
                f"[yellow]the server's configuration ({escape(info.config_file)}) is outside "
                "its data directory and not readable here: keep a copy of it and give "
                "`tradestore pitr restore --config-dir DIR`[/]"
            )


@pitr.command("restore")
@click.option(
    "--base",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The base backup directory (from `tradestore pitr base-backup`).",
)
@archive_option
@click.option(
    "--target-time",
    required=True,
    metavar="WHEN",
    help="Recover to this instant: an ISO date-time (UTC unless it has an offset).",
)
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The new data directory to prepare (must not exist or be empty).",
)
@click.option(
    "--target-action",
    type=click.Choice(TARGET_ACTIONS),
    default="promote",
    show_default=True,
    help="What the server does on reaching the target.",
)
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The server's configuration directory (postgresql.conf, pg_hba.conf, pg_ident.conf) "
    "when it lives outside the data directory (Debian: /etc/postgresql/15/main) and the base "
    "backup has no copy of it.",
)
@handle_errors
def restore_command(
    base: Path,
    wal_archive: Path,
    target_time: str,
    to: Path,
    target_action: str,
    config_dir: Path | None,
) -> None:
    """Prepare a new data directory that recovers to --target-time when a server starts on it.

    The base backup is copied into --to with restore_command, recovery_target_time and
    recovery.signal. Start a server on it beside the live one (its own port), check it, then
    swap it in or dump from it. The live server is not touched.
    """
    from tradestore.ops.pitr import restore_to_time

    instant = parse_or_usage(
        "--target-time", lambda value: parse_instant(value, field="target_time"), target_time
    )
    with progress_bar() as progress:
        result = restore_to_time(
            base,
            wal_archive=wal_archive.absolute(),
            target_time=instant,
            to=to,
            target_action=target_action,
            config_dir=config_dir,
            progress=progress,
        )
    out = console()
    out.print(
        f"[green]prepared[/] {escape(str(result.data_dir))} to recover to "
        f"{result.target_time.isoformat()} (then {result.target_action}) from the base backup "
        f"of {when(result.base.finished_at)}"
    )
    out.print(f"start it with: {escape(result.start_command)}")
