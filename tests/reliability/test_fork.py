"""A forked child (``multiprocessing`` with fork, a worker pool) gets connections of its own.

Before, a child reused the connection its parent had pooled: on PostgreSQL the same backend
(one socket, two processes talking on it), on SQLite the same handle, holding none of the
parent's locks.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from tradestore import Database

pytestmark = pytest.mark.reliability


_held: list[object] = []  # keeps the connections alive, so no id() is ever reused


def _connection_identity(db: Database, backend: str) -> str:
    with db.session(readonly=True) as session:
        if backend == "postgresql":
            return str(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        raw = session.connection().connection.dbapi_connection
        _held.append(raw)
        return str(id(raw))


def test_a_forked_child_does_not_reuse_the_parents_connections(db: Database, backend: str) -> None:
    parent = _connection_identity(db, backend)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it got, then leave without running atexit hooks
        code = 1
        try:
            os.close(read)
            os.write(write, _connection_identity(db, backend).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child
    assert child != parent
    # and the parent's own connection still works after the child has come and gone
    assert _connection_identity(db, backend) == parent
