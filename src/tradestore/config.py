"""Where the database is.

One resolution order everywhere (``Database``, Alembic's env.py, the CLI and the init script),
so a bot, its migrations and its operator never talk to different databases by accident:

1. an explicit URL (argument or ``--url``),
2. ``TRADESTORE_DATABASE_URL``,
3. ``DATABASE_URL`` (the convention of Heroku-style platforms and seed 002),
4. ``sqlite:///data/tradestore.db``, relative to the working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tradestore.errors import ConfigurationError

DEFAULT_URL = "sqlite:///data/tradestore.db"
ENV_VARS = ("TRADESTORE_DATABASE_URL", "DATABASE_URL")

_PASSWORD_IN_TEXT = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)@")


def resolve_url(explicit: str | URL | None = None, environ: Mapping[str, str] | None = None) -> URL:
    """Return the database URL by the documented order, normalised for SQLAlchemy."""
    env = os.environ if environ is None else environ
    raw: str | URL | None = explicit
    if raw is None:
        raw = next((env[name] for name in ENV_VARS if env.get(name)), DEFAULT_URL)
    return parse_url(raw)


def parse_url(raw: str | URL) -> URL:
    """Parse a URL, accepting the ``postgres://`` spelling that hosting platforms hand out."""
    if isinstance(raw, URL):
        url = raw
    else:
        text = raw.strip()
        if text.startswith("postgres://"):
            text = "postgresql://" + text[len("postgres://") :]
        try:
            url = make_url(text)
        except ArgumentError:
            raise ConfigurationError(f"not a database URL: {mask_text(text)!r}") from None
        except ValueError as exc:  # e.g. a port that is not a number
            raise ConfigurationError(f"not a database URL: {mask_text(text)!r} ({exc})") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"unsupported database {backend!r} in {mask_url(url)}: use sqlite or postgresql"
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    return url


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    return Path(database)


def mask_url(url: str | URL) -> str:
    """Render a URL with its password replaced by ``***``, safe for logs and messages."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return mask_text(url)


def mask_text(text: str) -> str:
    """Mask any ``scheme://user:password@`` password inside free text (error messages)."""
    return _PASSWORD_IN_TEXT.sub(lambda m: m.group("head") + "***@", text)
