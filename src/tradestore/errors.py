"""The exceptions tradestore raises.

Callers catch ``TradestoreError`` to handle everything the library refuses, and the narrower
classes to react to one cause. Every validation error names the offending field and value so a
bot's log line is enough to find the bad input; no raw driver error or ``IntegrityError`` is
meant to reach the caller.
"""

from __future__ import annotations

import reprlib
from typing import Any


class TradestoreError(Exception):
    """Base class of every error tradestore raises on purpose."""


# --- configuration and schema -------------------------------------------------------------


class ConfigurationError(TradestoreError):
    """The database URL or another setting cannot be used."""


class MissingDependency(TradestoreError, ImportError):
    """A call needs an optional extra that is not installed; the message names the extra.

    Also an ``ImportError``, so code that guards an optional feature the usual way still works.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.extra = extra
        super().__init__(
            f"{feature} needs {module}, which is not installed: pip install 'tradestore[{extra}]'",
            name=module,
        )


class DatabaseUnavailable(TradestoreError):
    """The database server or file cannot be reached. The message masks the password."""


class TransientDatabaseError(DatabaseUnavailable):
    """The database refused the transaction without applying it (lock timeout, serialization
    failure, deadlock, connection lost before commit): running it again is safe.

    ``Database.run`` retries these on its own; code using ``unit_of_work`` may catch this and
    re-run its block.
    """


class CommitOutcomeUnknown(DatabaseUnavailable):
    """The connection was lost while COMMIT was in flight: the transaction may have committed.

    Never retried automatically. Check whether the write landed (idempotent keys such as
    client_order_id make a re-submit safe) before repeating it.
    """


class NestedUnitOfWork(TradestoreError, RuntimeError):
    """A write unit of work was opened while this thread already has one open.

    Raised at once, before any lock is waited for, on every backend: pass the open ``uow``
    down to the code that needs it. Never retried: running it again cannot help.
    """


class RecorderClosed(TradestoreError):
    """An event was handed to a recorder (``tradestore.aio``) after ``close()``: not recorded."""


class RecorderFull(TradestoreError):
    """A sync recorder's queue stayed full for the whole ``put_timeout``: not recorded.

    The writer is behind (or the database is down and ``Database.run`` is waiting it out);
    the event may be handed over again.
    """


class TransactionAborted(TradestoreError):
    """A call inside the unit of work was refused in a way that left the transaction unusable
    (or half done), and the block went on as if nothing happened: nothing was committed.

    Raised when the ``with`` block ends instead of committing, because committing would have
    silently dropped the block's earlier writes (PostgreSQL rolls an aborted transaction back
    at COMMIT). ``first_error`` is the refusal that broke the transaction, when known.
    """

    def __init__(self, message: str, first_error: BaseException | None = None) -> None:
        self.first_error = first_error
        super().__init__(message)


class ReadOnlyUnitOfWork(TradestoreError):
    """A write was asked of a ``readonly=True`` unit of work, which rolls back at its end:
    refused before the statement runs, naming the call (``call``), so no write is lost
    without a word. Open a writing unit of work for it."""

    def __init__(self, call: str, statement: str) -> None:
        self.call = call
        self.statement = statement
        super().__init__(
            f"{call} writes ({statement}), and this unit of work is readonly=True: it rolls "
            "back at its end, so the write would be lost. Use a writing unit of work "
            "(unit_of_work() without readonly) for it"
        )


class SchemaError(TradestoreError):
    """The database schema does not match what this version of tradestore expects."""


class SchemaOutOfDate(SchemaError):
    """The database is behind the code: run the named upgrade command."""


class SchemaTooNew(SchemaError):
    """The database was migrated by a newer tradestore than the one running."""


class MigrationError(TradestoreError):
    """A migration failed; its transaction rolled back and migration_history records it."""


# --- operations ---------------------------------------------------------------------------


class BackupError(TradestoreError):
    """A backup could not be written, verified or restored (also: pg_dump/pg_restore missing)."""


class CorruptBackup(BackupError):
    """A backup file failed verification; nothing was restored and the database is untouched."""


class InsufficientSpace(BackupError):
    """Not enough free disk space to write a backup or unpack and restore one.

    Not a damaged backup: the same file restores once space is freed. ``directory`` is where
    the space ran out, ``needed`` a lower bound of the bytes required (None when unknown) and
    ``free`` the bytes that were free there. Nothing was changed.
    """

    def __init__(
        self, message: str, *, directory: str, needed: int | None, free: int | None
    ) -> None:
        self.directory = directory
        self.needed = needed
        self.free = free
        super().__init__(message)


# --- input validation ---------------------------------------------------------------------


class ValidationError(TradestoreError, ValueError):
    """An argument was refused before anything was written.

    ``field`` and ``value`` are kept as attributes so callers (and the CLI) can report them
    without parsing the message.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={_short_repr(value)}: {reason}")


class PrecisionError(ValidationError):
    """A Decimal has more digits than the active backend can store exactly."""


class NaiveDatetimeError(ValidationError):
    """A datetime without a timezone: tradestore cannot know which instant it means."""


# --- domain rules -------------------------------------------------------------------------


class NotFound(TradestoreError, LookupError):
    """A row the caller named does not exist (or belongs to another bot)."""

    def __init__(self, entity: str, key: Any) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {_short_repr(key)} not found")


class BotNotFound(NotFound):
    pass


class PositionNotFound(NotFound):
    pass


class OrderNotFound(NotFound):
    pass


class RunNotFound(NotFound):
    pass


class ConflictError(TradestoreError):
    """The write contradicts a row that already exists."""


class DuplicateOrder(ConflictError):
    """A client_order_id was reused with a different payload."""


class DuplicateBrokerOrderId(ConflictError):
    """A ``broker_order_id`` already names another order of the bot, or the order already has
    a different one: a broker names one order per id, so either the feed or the bot mixed two
    orders up, and silently moving the id would lose track of one of them.

    ``field`` is ``"broker_order_id"`` and ``value`` the id refused; ``order_id`` is the order
    it was refused for, ``held_by`` the order that already has it, ``current`` the order's
    own, different id (each None when not the reason).
    """

    def __init__(
        self,
        value: str,
        order_id: str | None,
        *,
        held_by: str | None = None,
        current: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.field = "broker_order_id"
        self.value = value
        self.order_id = order_id
        self.held_by = held_by
        self.current = current
        if reason is not None:
            pass
        elif held_by is not None:
            reason = f"already names order {_short_repr(held_by)} of this bot"
        else:
            reason = f"the order already has broker_order_id {_short_repr(current)}"
        target = "" if order_id is None else f" (for order {_short_repr(order_id)})"
        super().__init__(f"broker_order_id={_short_repr(value)}{target}: {reason}")


class DuplicateFill(ConflictError):
    """A fill_id was replayed with a different payload."""


class Overfill(ConflictError):
    """A fill would take an order's filled quantity above its quantity."""


class PositionClosed(ConflictError):
    """The position has already been closed."""


class DuplicateRun(ConflictError):
    """A training run with this run_id already exists."""


class RunInEnsemble(ConflictError):
    """The run is a member of an active ensemble version; set new weights without it first."""


class InvalidTransition(ConflictError):
    """A status change that the state machine does not allow."""

    def __init__(self, entity: str, key: Any, current: str, requested: str) -> None:
        self.entity = entity
        self.key = key
        self.current = current
        self.requested = requested
        super().__init__(
            f"{entity} {_short_repr(key)}: cannot move from {current!r} to {requested!r}"
        )


class IntegrityViolation(ConflictError):
    """The database refused a write on a constraint the repositories did not anticipate.

    It wraps the driver's ``IntegrityError`` so callers need only catch tradestore errors; the
    constraint name, when the driver reports it, is kept in ``constraint``, and the kind of
    constraint ("unique", "foreign_key", "check", "not_null"), read from the database's own
    error code, in ``kind``.
    """

    def __init__(
        self, message: str, constraint: str | None = None, *, kind: str | None = None
    ) -> None:
        self.constraint = constraint
        self.kind = kind
        super().__init__(message)


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` limits, and an int too long for ``str`` shown by its size."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxlong = self.maxother = limit
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 6

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:  # more digits than sys.get_int_max_str_digits()
            return f"<int of {x.bit_length()} bits>"


_REPR = _BoundedRepr(80)


def _short_repr(value: Any, limit: int = 80) -> str:
    """At most ``limit`` characters, and never an exception of its own.

    The message of an error about bad input must survive the input: ``repr`` raises on an int
    of more than ``sys.get_int_max_str_digits()`` digits, recurses without bound into a deeply
    nested document and may raise from a hostile ``__repr__``. ``reprlib`` stops at a depth and
    a width, so only the first levels of the value are walked.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # a __repr__ that raises
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
