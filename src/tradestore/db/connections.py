"""A long-lived Connection per thread for SQLite write units of work.

Why this exists. On SQLite a unit of work's fixed cost outweighs its statements: a pool
checkout (events, the reset-on-return rollback) and its return cost tens of microseconds,
against 2-20 for ``BEGIN IMMEDIATE``, an INSERT and ``COMMIT`` on the driver. A bot opens
thousands of such units a day, each one a few statements long (docs/performance.md measures
it). So each thread that writes keeps one Connection checked out and reuses it for every
unit of work it runs.

Why only SQLite files. A SQLite connection is a file handle: it cannot be dropped by a server,
so holding it costs nothing and never needs the pool's pre-ping. A PostgreSQL connection can
be terminated at any time; there the pool, with its pre-ping, stays in charge, and a
network round trip already dwarfs the checkout.

The rules that keep this safe:

* a slot serves one unit of work at a time (``Database`` refuses a nested write unit of work
  with ``NestedUnitOfWork``; should one reach here, it falls back to a pooled Connection);
* at most ``limit`` threads hold a slot, so threads never starve the pool; the rest use it;
* the unit of work's transaction is ended after every unit of work (its Executor, with any
  state, is dropped), so nothing leaks from one unit to the next: only the connection is
  reused;
* a slot whose connection was invalidated, or that is still in a transaction when its unit
  of work ends, is discarded, never reused: after a failed COMMIT (disk full, I/O error)
  neither SQLAlchemy nor the driver ended the transaction, and a kept slot would fail
  every later unit of work of its thread while holding SQLite's write lock;
* slots of threads that have ended are closed when the next slot is made, all of them on
  ``Database.dispose()`` or when the Database is garbage-collected, and none is ever used
  by a forked child (the parent owns those connections).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


@dataclass(eq=False)
class ThreadConnection:
    """One thread's connection."""

    thread: threading.Thread
    connection: Connection
    busy: bool = field(default=False)
    #: Taken out of service by ``close()`` while busy: closed when its unit of work ends.
    retired: bool = field(default=False)
    #: The process that opened the connection: the only one that may close it.
    pid: int = field(default_factory=os.getpid)

    @property
    def usable(self) -> bool:
        return not (self.connection.closed or self.connection.invalidated)

    @property
    def reusable(self) -> bool:
        """Usable and back to no transaction at all, in SQLAlchemy and in the driver.

        ``get_transaction()``, not ``in_transaction()``: after a failed COMMIT the Connection
        still holds its (deactivated) Transaction, which ``in_transaction()`` hides.
        """
        if not self.usable or self.connection.get_transaction() is not None:
            return False
        return not driver_in_transaction(self.connection.connection.dbapi_connection)

    def close(self) -> None:
        if self.pid != os.getpid():
            return  # inherited through fork: the parent's connection, not ours to close
        self.connection.close()


class ThreadConnections:
    """Hands each writing thread its own Connection, bounded and cleaned up."""

    def __init__(self, engine: Engine, *, limit: int) -> None:
        self._engine = engine
        self._limit = limit
        self._lock = threading.Lock()
        self._slots: dict[int, ThreadConnection] = {}
        self._pid = os.getpid()
        # Close the slots when the owning Database goes away without dispose(): a
        # connection garbage-collected while checked out makes SQLAlchemy warn.
        self._finalizer = weakref.finalize(self, _close_all, self._slots)
        _instances.add(self)

    def claim(self) -> ThreadConnection | None:
        """This thread's slot, marked busy; None when the caller should use the pool."""
        with self._lock:
            if os.getpid() != self._pid:
                self._forget_inherited()
            ident = threading.get_ident()
            slot = self._slots.get(ident)
            if slot is not None:
                if slot.busy:
                    return None  # a unit of work nested in another one
                if slot.usable and slot.thread is threading.current_thread():
                    slot.busy = True
                    return slot
                # Bad connection, or an ended thread's slot under a recycled thread id.
                del self._slots[ident]
                slot.close()
            return self._new_slot(ident)

    def release(self, slot: ThreadConnection) -> None:
        """End ``slot``'s unit of work; a retired or broken slot is closed, not kept."""
        with self._lock:
            slot.busy = False
            if slot.retired or not slot.reusable:
                if self._slots.get(threading.get_ident()) is slot:
                    del self._slots[threading.get_ident()]
                _discard(slot)

    def close(self) -> None:
        """Close every slot (``Database.dispose()``); threads make new ones on next use.

        A slot in the middle of a unit of work is retired instead: its thread closes it
        when the unit ends, so a dispose() never pulls a connection from under a commit.
        """
        with self._lock:
            _close_all(self._slots)

    def _new_slot(self, ident: int) -> ThreadConnection | None:
        self._close_ended_threads()
        if len(self._slots) >= self._limit:
            return None
        try:
            connection = self._engine.connect()
        except Exception:
            # The pool will meet the same failure inside the unit of work's error
            # translation and report it as a tradestore error; nothing to do here.
            return None
        slot = ThreadConnection(threading.current_thread(), connection, busy=True)
        self._slots[ident] = slot
        return slot

    def _close_ended_threads(self) -> None:
        for ident, slot in list(self._slots.items()):
            if not slot.thread.is_alive() and not slot.busy:
                del self._slots[ident]
                slot.close()

    def _forget_inherited(self) -> None:
        # The parent process owns these connections; closing them here could disturb it.
        # Keep them referenced (never garbage-collected, so never finalized) and start over.
        _inherited.extend(self._slots.values())
        self._slots.clear()
        self._pid = os.getpid()


#: Slots a forked child inherited from its parent: kept alive, deliberately never touched.
_inherited: list[ThreadConnection] = []
_instances: weakref.WeakSet[ThreadConnections] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """Give every instance a fresh lock and no slots in a forked child.

    Another thread of the parent may have held the lock at the moment of the fork; the child
    has no such thread and would wait on it forever.
    """
    for instance in list(_instances):
        instance._lock = threading.Lock()
        instance._forget_inherited()


os.register_at_fork(after_in_child=_after_fork_in_child)


def driver_in_transaction(dbapi_connection: Any) -> bool:
    """True when the driver connection itself still has a transaction open.

    SQLAlchemy tracks its own Transaction objects; when COMMIT fails in the driver (SQLite's
    "database or disk is full", an I/O error) the Transaction is marked done while the
    database still has it open, holding SQLite's write lock and, on PostgreSQL, the
    uncommitted rows that the connection's next user would commit as its own.
    """
    if dbapi_connection is None:
        return False
    # An async driver's connection is adapted by SQLAlchemy: the driver's own answers it.
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    status = getattr(driver, "get_transaction_status", None)
    if callable(status):  # psycopg2: TRANSACTION_STATUS_IDLE is 0
        return bool(status())
    asked = getattr(driver, "is_in_transaction", None)
    if callable(asked):  # asyncpg
        return bool(asked())
    try:
        return bool(getattr(driver, "in_transaction", False))  # sqlite3, aiosqlite
    except ValueError:  # aiosqlite whose connection is closed: nothing is open
        return False


def _discard(slot: ThreadConnection) -> None:
    """Close a slot taken out of service; if even that fails, drop its connection.

    Closing rolls back what is left of the transaction. It runs in the unit of work's
    ``finally``: raising here would replace the error the caller needs to see.
    """
    try:
        slot.close()
    except Exception:
        log.warning("closing a failed thread connection failed; invalidating it", exc_info=True)
        try:
            slot.connection.invalidate()
        except Exception:
            log.debug("invalidating the thread connection failed", exc_info=True)


def _close_all(slots: dict[int, ThreadConnection]) -> None:
    if not slots:
        return
    pending = list(slots.values())
    slots.clear()
    for slot in pending:
        if slot.busy:
            slot.retired = True
        else:
            slot.close()
