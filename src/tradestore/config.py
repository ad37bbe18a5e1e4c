"""Where the database is.

One resolution order everywhere (``Database``, Alembic's env.py, the CLI and the init script),
so a bot, its migrations and its operator never talk to different databases by accident:

1. an explicit URL (argument or ``--url``),
2. ``TRADESTORE_DATABASE_URL``,
3. ``DATABASE_URL`` (the convention of Heroku-style platforms and bot projects),
4. ``sqlite:///data/tradestore.db``, relative to the working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tradestore.errors import ConfigurationError

DEFAULT_URL = "sqlite:///data/tradestore.db"
#: The driver each backend runs on, in the sync API and in ``tradestore.aio``. Any spelling
#: of a backend the sync API accepts maps to the async one and back, so one
#: ``TRADESTORE_DATABASE_URL`` serves a bot's async code, its migrations and the CLI.
SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg2"}
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
ENV_VARS = ("TRADESTORE_DATABASE_URL", "DATABASE_URL")

#: Query-string (and libpq keyword) names whose values are secrets: libpq's ``password`` and
#: ``sslpassword``, the ``passfile`` path, and the token/secret names of proxies and other
#: drivers. Matched case-insensitively: libpq refuses ``PASSWORD=``, but the value is still
#: the user's password and must not be shown while saying so.
_SECRET_KEY = re.compile(r"pass(?:word|wd|file|phrase)|pwd|secret|token|credential", re.IGNORECASE)

#: ``scheme://user:password@`` in free text. The password runs from the first ``:`` to the
#: *last* ``@`` of the whitespace- or quote-delimited token: a user name or password holding an
#: unencoded ``@`` (or ``/``) still has its password hidden whole, at the cost of also hiding
#: the host when a later part of the URL holds an ``@``.
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/\s'\"]*:)(?P<pw>[^\s'\"]*)@(?=[^@\s'\"]*(?:[\s'\"]|$))"
)
#: ``key=value`` as in libpq keyword strings, URL query strings and psycopg2's DSN.
_KEYWORD_IN_TEXT = re.compile(
    r"(?P<key>[A-Za-z_%][\w.%-]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&;,'\"]*)"
)
#: libpq's "could not translate host name "b@host"": what precedes the ``@`` is the part of
#: a password after an unencoded ``@``.
_HOST_WITH_AT = re.compile(r'(?P<head>host name ")[^"]*@')
#: Secret fragments shorter than this are not scrubbed from free text: they match ordinary
#: words and would garble every message, while the structural masks above already hide them
#: wherever a URL or keyword string puts them (libpq itself never echoes a password).
MIN_FRAGMENT = 4
#: What a secret is replaced with.
MASK = "***"


def resolve_url(explicit: str | URL | None = None, environ: Mapping[str, str] | None = None) -> URL:
    """Return the database URL by the documented order, normalised for SQLAlchemy."""
    env = os.environ if environ is None else environ
    raw: str | URL | None = explicit
    if raw is None:
        raw = next((env[name] for name in ENV_VARS if env.get(name)), DEFAULT_URL)
    return parse_url(raw)


def parse_url(raw: str | URL) -> URL:
    """Parse a URL, accepting the ``postgres://`` spelling that hosting platforms hand out.

    A password given as ``?password=`` moves into the URL's password (where SQLAlchemy hides
    it when rendering, and which libpq would use the same way). A user name or password
    holding an unencoded ``@`` is refused: SQLAlchemy would read the rest of it as the host
    and send it to DNS and into the error message.
    """
    if isinstance(raw, URL):
        url = raw
    else:
        text = raw.strip()
        if text.startswith("postgres://"):
            text = "postgresql://" + text[len("postgres://") :]
        _refuse_unencoded_at(text)
        try:
            url = make_url(text)
        except ArgumentError:
            raise ConfigurationError(
                f"not a database URL: {mask_text(text)!r}{_hint(text)}"
            ) from None
        except ValueError as exc:  # e.g. a port that is not a number
            raise ConfigurationError(
                f"not a database URL: {mask_text(text)!r} ({mask_text(str(exc))})"
            ) from None
    if url.host and "@" in url.host:
        raise ConfigurationError(
            f"the database URL {mask_url(url)} has an unencoded '@' in its user name or "
            "password: write it as %40"
        )
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"unsupported database {backend!r} in {mask_url(url)}: use sqlite or postgresql"
        )
    if backend == "sqlite":
        _refuse_sqlite_secrets(url)
    if url.drivername == "postgresql" or url.drivername == ASYNC_DRIVERS[backend]:
        url = url.set(drivername=SYNC_DRIVERS[backend])
    if backend == "postgresql" and "password" in url.query:
        value = url.query["password"]
        password = value if isinstance(value, str) else value[-1]
        url = url.difference_update_query(["password"]).set(password=password)
    return url


def async_url(url: URL) -> URL:
    """``url`` (as ``resolve_url`` returns it) on its backend's async driver."""
    return url.set(drivername=ASYNC_DRIVERS[url.get_backend_name()])


def _refuse_unencoded_at(text: str) -> None:
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.startswith("sqlite"):
        return
    if rest.split("/", 1)[0].count("@") > 1:
        raise ConfigurationError(
            f"the database URL {mask_text(text)} has an unencoded '@' in its user name or "
            "password: write it as %40"
        )


def _hint(text: str) -> str:
    if "://" not in text and "=" in text:
        return (
            " (a libpq keyword string? tradestore takes a URL: "
            "postgresql://user@host:5432/dbname, the password percent-encoded or in PGPASSWORD)"
        )
    return ""


def _refuse_sqlite_secrets(url: URL) -> None:
    keys = sorted(key for key in url.query if is_secret_key(key))
    if url.password is not None:
        keys.insert(0, "password")
    if keys:
        raise ConfigurationError(
            f"SQLite databases have no password, but the URL {mask_url(url)} gives "
            f"{', '.join(keys)}: remove it (tradestore does not encrypt SQLite files)"
        )


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


def is_secret_key(key: str) -> bool:
    """Whether a query-string or libpq keyword's value is secret (``password``, ``sslpassword``)."""
    return _SECRET_KEY.search(unquote(key)) is not None


#: The URL query argument saying the server is a PgBouncer in transaction (or statement)
#: pooling mode: ``postgresql://bouncer:6432/db?pgbouncer=true`` (Prisma's spelling), the same
#: as ``Database(url, pgbouncer=True)``. docs/operations/pgbouncer.md says what it changes.
PGBOUNCER_QUERY = "pgbouncer"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def split_pgbouncer_query(url: URL) -> tuple[URL, bool]:
    """The URL without its ``pgbouncer`` query argument, and that argument's value.

    The argument is tradestore's, not libpq's or asyncpg's: neither driver may see it (libpq
    refuses an unknown keyword), nor may pg_dump. An unreadable value is refused, naming it.
    """
    given = url.query.get(PGBOUNCER_QUERY)
    if given is None:
        return url, False
    value = given if isinstance(given, str) else given[-1]
    word = value.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ConfigurationError(
            f"database URL parameter {PGBOUNCER_QUERY}={value!r}: use true or false"
        )
    return url.difference_update_query([PGBOUNCER_QUERY]), word in _TRUE


def split_secret_query(url: URL) -> tuple[URL, dict[str, str]]:
    """The URL without its secret query arguments, and those arguments (for ``connect_args``).

    An engine built from the first never carries them in ``engine.url``, so no rendering of
    it (``repr(engine)``, SQLAlchemy's or an application's logging) can show them.
    """
    secrets = {
        key: value if isinstance(value, str) else value[-1]
        for key, value in url.query.items()
        if is_secret_key(key)
    }
    return (url.difference_update_query(list(secrets)) if secrets else url), secrets


def secret_fragments(
    url: URL | str | None, environ: Mapping[str, str] | None = None
) -> frozenset[str]:
    """Every spelling of the secrets behind ``url``, to scrub from text the driver produced.

    The password (netloc or query), other secret query values and, for PostgreSQL,
    ``PGPASSWORD``; each raw, percent-encoded and split at ``@`` (the pieces an unencoded
    ``@`` would have scattered over host and port). Fragments shorter than ``MIN_FRAGMENT``
    are left out (see there).
    """
    if url is None:
        return frozenset()
    if not isinstance(url, URL):
        try:
            url = make_url(url.strip())
        except (ArgumentError, ValueError):
            return frozenset()
    values: list[str] = []
    if url.password:
        values.append(str(url.password))
    if url.host and "@" in url.host:
        values.append(url.host.rpartition("@")[0])
    for key, value in url.query.items():
        if is_secret_key(key):
            values.extend([value] if isinstance(value, str) else value)
    env = os.environ if environ is None else environ
    if url.get_backend_name() == "postgresql" and env.get("PGPASSWORD"):
        values.append(env["PGPASSWORD"])
    fragments: set[str] = set()
    for value in values:
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            fragments.add(form)
            fragments.update(form.split("@"))
            fragments.update(form.split("%40"))
    return frozenset(f for f in fragments if len(f) >= MIN_FRAGMENT)


def mask_url(url: str | URL) -> str:
    """Render a URL with every secret replaced by ``***``, safe for logs, messages and rows.

    Hides the password, the values of secret query arguments (``?password=``,
    ``?sslpassword=``, any case) and, for a host that swallowed part of a password through an
    unencoded ``@``, everything before its last ``@``.
    """
    if not isinstance(url, URL):
        return mask_text(url)
    if url.host and "@" in url.host:
        url = url.set(host=url.host.rpartition("@")[2], password=MASK)
    return mask_text(url.render_as_string(hide_password=True))


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Hide secrets in free text (error messages, driver output, log lines).

    Masks the password of any ``scheme://user:password@`` URL, the value of any secret
    ``key=value`` (libpq keyword strings, query strings, psycopg2's DSN), the part of a host
    name before an ``@``, and every occurrence of the given ``secrets`` (see
    :func:`secret_fragments`: what is known about the actual password).
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    text = _PASSWORD_IN_URL.sub(lambda m: m.group("head") + MASK + "@", text)
    text = _KEYWORD_IN_TEXT.sub(_mask_keyword, text)
    return _HOST_WITH_AT.sub(lambda m: m.group("head") + MASK + "@", text)


def _mask_keyword(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("key")):
        return match.group(0)
    return match.group("key") + match.group("eq") + MASK
