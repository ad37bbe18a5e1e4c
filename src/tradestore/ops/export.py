"""Export a table (or view) as CSV, JSON Lines or Parquet, streaming.

Rows are fetched ``batch_size`` at a time (a server-side cursor on PostgreSQL, SQLite's own
cursor stepping) and written as they arrive, so memory stays flat however large the table
is. Tables are read through the models, so values come out as the API returns them: money as
exact ``Decimal``, instants as aware UTC; tradestore's views are read with the column types
the analytics API declares for them (``tradestore.analytics.schema``), so they come out the
same way on both backends. On SQLite the read runs in a deferred transaction:
one consistent snapshot, and a bot's writes are never blocked.

Encodings:

* CSV: a header row; decimals in plain notation (``150.25``, never ``1.5025E+2``), instants as
  ISO 8601 with ``+00:00``, booleans ``true``/``false``, JSON documents as compact JSON,
  NULL as the empty field, NaN/infinities as ``NaN``/``Infinity``/``-Infinity``.
* JSON Lines: one object per row; decimals as JSON numbers written digit for digit (read
  them back exactly with ``json.loads(line, parse_float=Decimal)``), NaN/infinities as the
  strings above (JSON has no such numbers), JSON documents nested.
* Parquet (needs pyarrow): money as ``decimal128(38, 18)``, instants as
  ``timestamp[us, tz=UTC]``, dates as ``date32``, JSON documents as JSON text.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import enum
import io
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    SmallInteger,
    Table,
    TableClause,
    select,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradestore.analytics.schema import VIEWS
from tradestore.config import sqlite_path
from tradestore.database import Database
from tradestore.db.types import Money, Real, UTCDateTime
from tradestore.errors import ConfigurationError, ValidationError
from tradestore.models import Base
from tradestore.ops._common import (
    Progress,
    atomic_output,
    check_output_target,
    no_progress,
    read_connection,
    refuse_live_database,
    sqlite_files,
)

#: The views the read side declares, by name (their column types; see ``_view_table``).
_DECLARED_VIEWS: dict[str, TableClause] = {view.name: view for view in VIEWS}

FORMATS = ("csv", "jsonl", "parquet")
DEFAULT_BATCH_SIZE = 5000

#: The column ``--since`` filters on, per table: when the row's event happened.
TIME_COLUMNS: dict[str, str] = {
    "bots": "created_at",
    "positions": "opened_at",
    "closed_positions": "closed_at",
    "orders": "submitted_at",
    "fills": "filled_at",
    "portfolio_snapshots": "snapshot_time",
    "performance_metrics": "metric_date",
    "period_metrics": "as_of",
    "training_runs": "start_time",
    "training_episodes": "episode_time",
    "agent_performance": "evaluation_date",
    "ensemble_weights": "update_time",
    "migration_history": "applied_at",
}


@dataclass(frozen=True)
class ExportResult:
    table: str
    format: str
    rows: int
    #: The file written, or None when writing to a stream.
    path: Path | None


def exportable(database: Database) -> list[str]:
    """Tables of the models and views present in the database, sorted."""
    from sqlalchemy import inspect

    with read_connection(database) as connection:
        views = inspect(connection).get_view_names()
    return sorted({*Base.metadata.tables, *views})


def export_table(
    database: Database,
    table: str,
    destination: Path | str | IO[str] | IO[bytes],
    *,
    format: str,
    since: dt.datetime | None = None,
    time_column: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress = no_progress,
    force: bool = False,
) -> ExportResult:
    """Stream ``table`` into ``destination`` (a path, or a text stream for csv/jsonl and a
    binary stream for parquet). ``since`` keeps rows whose time column (``TIME_COLUMNS`` or
    ``time_column``) is at or after that instant; a date column compares with its UTC date.

    A path is written as a new private file beside it and renamed into place once complete
    (see ``atomic_output``): an existing file is refused unless ``force``, a symbolic link is
    never followed, and the live SQLite database (or its ``-wal``/``-shm``) is always refused.
    """
    if format not in FORMATS:
        raise ValidationError("format", format, f"choose one of {', '.join(FORMATS)}")
    if batch_size <= 0:
        raise ValidationError("batch_size", batch_size, "must be greater than zero")
    if format == "parquet":
        _require_pyarrow()
    path = Path(destination) if isinstance(destination, str | Path) else None
    live = sqlite_path(database.url) if database.dialect_name == "sqlite" else None
    if path is not None:
        refuse_live_database(path, live)
        check_output_target(path, force=force)
    else:
        _refuse_live_stream(destination, live)  # type: ignore[arg-type]
    with read_connection(database) as connection:
        source = _source_table(connection, table)
        statement = _statement(source, since=since, time_column=time_column)
        with contextlib.ExitStack() as stack:
            sink: IO[str] | IO[bytes]
            if path is not None:
                raw = stack.enter_context(atomic_output(path, force=force))
                sink = raw if format == "parquet" else stack.enter_context(_text(raw))
            else:
                sink = destination  # type: ignore[assignment]
            result = connection.execution_options(
                stream_results=True, yield_per=batch_size
            ).execute(statement)
            batches = (list(partition) for partition in result.partitions())
            columns = [column.name for column in source.columns]
            if format == "parquet":
                rows = _write_parquet(source, batches, sink, progress)
            else:
                writer = _write_csv if format == "csv" else _write_jsonl
                rows = writer(columns, batches, sink, progress)  # type: ignore[arg-type]
    return ExportResult(table=source.name, format=format, rows=rows, path=path)


def _refuse_live_stream(stream: IO[Any], live: Path | None) -> None:
    """A stream that is the live database (``export ... >> data/tradestore.db``) is refused."""
    if live is None:
        return
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return  # not backed by a file descriptor: cannot be the database
    for candidate in sqlite_files(live):
        try:
            other = os.stat(candidate)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino):
            raise ValidationError(
                "output",
                str(candidate),
                "the output stream is the live database (or its journal): refusing to write",
            )


@contextlib.contextmanager
def _text(raw: IO[bytes]) -> Iterator[IO[str]]:
    """A text view of ``raw`` that is flushed, then detached: ``raw`` stays open for its owner."""
    wrapper = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


def _require_pyarrow() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "parquet export needs pyarrow: pip install 'tradestore[parquet]' "
            "(or use --format csv / jsonl)"
        ) from None


def _source_table(connection: Connection, name: str) -> Table:
    if name in Base.metadata.tables:
        return Base.metadata.tables[name]
    from sqlalchemy import inspect

    if name in inspect(connection).get_view_names():
        return _view_table(Table(name, MetaData(), autoload_with=connection))
    choices = ", ".join(sorted(Base.metadata.tables))
    raise ValidationError("table", name, f"no such table or view; tables: {choices}")


def _view_table(reflected: Table) -> Table:
    """A view with the column types the read side declares for it.

    Reflection cannot give a view's types on SQLite: a column computed by the view has no
    declared type, and one copied from a table keeps only its storage type, so money came
    out as the stored double (``249.840000000000003411``) and instants as naive text. The
    declarations in ``tradestore.analytics.schema`` are what the analytics API reads the
    views with (and are checked against the migrated views on both backends), so an export
    of a view agrees with the API value for value. The columns themselves still come from
    the database: a column the declaration lacks (a view a user redefined, or a later
    revision's) keeps its reflected type, and a view tradestore does not declare is exported
    as reflected.
    """
    declared = _DECLARED_VIEWS.get(reflected.name)
    if declared is None:
        return reflected
    return Table(
        reflected.name,
        MetaData(),
        *(
            Column(
                column.name,
                declared.c[column.name].type if column.name in declared.c else column.type,
                nullable=column.nullable,
            )
            for column in reflected.columns
        ),
    )


def _statement(source: Table, *, since: dt.datetime | None, time_column: str | None) -> Select[Any]:
    statement = select(source)
    key = list(source.primary_key.columns)
    if key:
        statement = statement.order_by(*key)
    if since is None:
        return statement
    column_name = time_column or TIME_COLUMNS.get(source.name)
    if column_name is None or column_name not in source.columns:
        raise ValidationError(
            "since",
            since,
            f"{source.name} has no time column to filter on"
            + ("; name one with --time-column" if column_name is None else f" {column_name!r}"),
        )
    column: Column[Any] = source.columns[column_name]
    if since.tzinfo is None:
        raise ValidationError("since", since, "naive datetime: give a timezone")
    if _is_date(column.type):
        return statement.where(column >= since.astimezone(dt.UTC).date())
    return statement.where(column >= since)


def _is_date(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, Date) and not isinstance(type_, DateTime)


# --- text formats ------------------------------------------------------------------------------


def _plain_decimal(value: decimal.Decimal) -> str:
    if not value.is_finite():
        return {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}.get(
            str(value), "NaN"
        )
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _special_float(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return None


def _csv_encoder(kind: type) -> Callable[[Any], str]:
    """How to write a value of this Python type into a CSV field."""
    if issubclass(kind, bool):
        return lambda v: "true" if v else "false"
    if issubclass(kind, enum.Enum):
        return lambda v: str(v.value)
    if issubclass(kind, str):
        return str
    if issubclass(kind, decimal.Decimal):
        return _plain_decimal
    if issubclass(kind, float):
        return lambda v: _special_float(v) or repr(v)
    if issubclass(kind, dt.date):  # datetime too
        return lambda v: v.isoformat()
    if issubclass(kind, dict | list):
        return lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)
    return str


def _json_encoder(kind: type) -> Callable[[Any], str]:
    """How to write a value of this Python type as a JSON fragment."""
    if issubclass(kind, bool):
        return lambda v: "true" if v else "false"
    if issubclass(kind, enum.Enum):
        return lambda v: json.dumps(v.value)
    if issubclass(kind, decimal.Decimal):
        return lambda v: _plain_decimal(v) if v.is_finite() else json.dumps(_plain_decimal(v))
    if issubclass(kind, float):
        return lambda v: json.dumps(special) if (special := _special_float(v)) else repr(v)
    if issubclass(kind, int):
        return str
    if issubclass(kind, dt.date):
        return lambda v: json.dumps(v.isoformat())
    return lambda v: json.dumps(v, ensure_ascii=False, default=str)


# Encoders chosen once per Python type (a dict lookup per value instead of an isinstance chain:
# exporting is dominated by this loop).
_CSV_ENCODERS: dict[type, Callable[[Any], str]] = {}
_JSON_ENCODERS: dict[type, Callable[[Any], str]] = {}


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    kind = type(value)
    encode = _CSV_ENCODERS.get(kind)
    if encode is None:
        encode = _CSV_ENCODERS[kind] = _csv_encoder(kind)
    return encode(value)


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    kind = type(value)
    encode = _JSON_ENCODERS.get(kind)
    if encode is None:
        encode = _JSON_ENCODERS[kind] = _json_encoder(kind)
    return encode(value)


def _write_csv(
    columns: Sequence[str],
    batches: Iterator[list[Any]],
    stream: IO[str],
    progress: Progress,
) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    rows = 0
    for batch in batches:
        writer.writerows([_csv_value(value) for value in row] for row in batch)
        rows += len(batch)
        progress("exporting rows", rows, None)
    stream.flush()
    return rows


def _write_jsonl(
    columns: Sequence[str],
    batches: Iterator[list[Any]],
    stream: IO[str],
    progress: Progress,
) -> int:
    keys = [json.dumps(column) for column in columns]
    rows = 0
    for batch in batches:
        lines = (
            "{"
            + ", ".join(
                f"{key}: {_json_value(value)}" for key, value in zip(keys, row, strict=True)
            )
            + "}\n"
            for row in batch
        )
        stream.writelines(lines)
        rows += len(batch)
        progress("exporting rows", rows, None)
    stream.flush()
    return rows


# --- parquet -----------------------------------------------------------------------------------


def _arrow_type(type_: TypeEngine[Any]) -> tuple[Any, Callable[[Any], Any]]:
    """The Arrow type of a column and the conversion of its Python values."""
    import pyarrow as pa

    def same(value: Any) -> Any:
        return value

    def enum_value(value: Any) -> Any:
        return value.value if isinstance(value, enum.Enum) else value

    def json_text(value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)

    if isinstance(type_, Money):
        return pa.decimal128(38, 18), same
    if isinstance(type_, UTCDateTime) or (isinstance(type_, DateTime) and type_.timezone):
        return pa.timestamp("us", tz="UTC"), same
    if isinstance(type_, Real | Double | Float):
        return pa.float64(), same
    if isinstance(type_, TypeDecorator):
        return _arrow_type(type_.impl_instance)
    if isinstance(type_, Boolean):
        return pa.bool_(), same
    if isinstance(type_, BigInteger | Integer | SmallInteger):
        return pa.int64(), same
    if isinstance(type_, DateTime):
        return pa.timestamp("us"), same
    if isinstance(type_, Date):
        return pa.date32(), same
    if isinstance(type_, Numeric):
        # A view's NUMERIC of unknown scale: exact text rather than a rounded float.
        return pa.string(), lambda v: None if v is None else _csv_value(v)
    if isinstance(type_, SAEnum):
        return pa.string(), enum_value
    if isinstance(type_, JSON) or type(type_).__name__ == "JSONB":
        return pa.string(), json_text
    return pa.string(), lambda v: None if v is None else _csv_value(v)


def _write_parquet(
    source: Table,
    batches: Iterator[list[Any]],
    destination: IO[str] | IO[bytes],
    progress: Progress,
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = []
    converters = []
    for column in source.columns:
        arrow_type, convert = _arrow_type(column.type)
        fields.append(pa.field(column.name, arrow_type, nullable=bool(column.nullable)))
        converters.append(convert)
    schema = pa.schema(fields)
    sink: Any = destination
    if hasattr(destination, "buffer"):  # a text stream such as sys.stdout: its bytes
        sink = destination.buffer
    rows = 0
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in batches:
            arrays = [
                pa.array([convert(row[i]) for row in batch], type=field.type)
                for i, (field, convert) in enumerate(zip(schema, converters, strict=True))
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            rows += len(batch)
            progress("exporting rows", rows, None)
    return rows
