"""What every command shares: consoles, error handling, ``--url``, progress bars, formatting."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from tradestore.config import mask_text, secret_fragments
from tradestore.errors import ValidationError
from tradestore.ops._common import Progress as ProgressCallback
from tradestore.ops._common import no_progress

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status of a command whose check or operation failed (click uses 2 for usage errors).
EXIT_FAILED = 1


def console(*, stderr: bool = False) -> Console:
    """A console on the *current* stdout/stderr (CliRunner swaps them per invocation).

    Rich colours only when the stream is a terminal (and honours NO_COLOR); a pipe or a file
    gets plain text, wide enough that tables are not wrapped at 80 columns.
    """
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    width = None if terminal else int(os.environ.get("COLUMNS", "160"))
    return Console(file=stream, highlight=False, width=width, soft_wrap=not terminal)


def fail(message: str, secrets: Iterable[str] = ()) -> None:
    """Print an error, masked: ``secrets`` are the fragments of the command's password."""
    console(stderr=True).print(f"[bold red]error:[/] {_escape(mask_text(message, secrets))}")


def _command_secrets(ctx: click.Context) -> frozenset[str]:
    """What is known of the password the command was given (``--url`` or the environment)."""
    from tradestore.config import resolve_url

    raw = ctx.params.get("url")
    try:
        return secret_fragments(resolve_url(raw))
    except Exception:  # an unusable URL: scrub what its raw text would have given
        return secret_fragments(raw if isinstance(raw, str) else None)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def handle_errors(func: F) -> F:
    """Turn exceptions into a one-line message and exit code 1 (traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fail(text, _command_secrets(ctx))
            sys.exit(EXIT_FAILED)

    return wrapper  # type: ignore[return-value]


url_option = click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Database URL (default: TRADESTORE_DATABASE_URL, DATABASE_URL, "
    "sqlite:///data/tradestore.db).",
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def open_database(url: str | None, *, create: bool = False) -> Any:
    """A Database for an operation: the schema is checked by the operations that need it.

    A SQLite file that does not exist is an error unless the command creates databases
    (``db upgrade``, ``restore``): connecting would otherwise leave an empty file behind a
    mistyped path.
    """
    from tradestore.config import resolve_url, sqlite_path
    from tradestore.database import Database
    from tradestore.errors import ConfigurationError

    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if not create and path is not None and not path.exists():
        raise ConfigurationError(
            f"database file {path} does not exist (run `tradestore db upgrade` to create it)"
        )
    return Database(resolved, check_schema=False)


@contextlib.contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr while the block runs; nothing when stderr is no terminal.

    Each phase an operation reports ("copying pages", "compressing", ...) gets its own bar.
    """
    err = console(stderr=True)
    if not err.is_terminal:
        yield no_progress
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield report


def parse_or_usage(param: str, parse: Callable[[str], Any], value: str) -> Any:
    """Run a parser; its ValidationError becomes click's usage error (exit status 2)."""
    try:
        return parse(value)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=param) from None


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def print_json(value: Any) -> None:
    click.echo(json.dumps(_jsonable(value), indent=2, sort_keys=False))


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("ok", "total", "total_rows", "up_to_date"):  # useful derived properties
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                data[name] = getattr(value, name)
        return data
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def when(instant: dt.datetime | None) -> str:
    if instant is None:
        return "-"
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
