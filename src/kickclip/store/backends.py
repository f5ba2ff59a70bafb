"""Where the clip store lives: an SQLite file (the embedded default) or a PostgreSQL database.

The store speaks one small SQL dialect, the common ground of both: ``?`` placeholders,
``ON CONFLICT`` upserts, ``RETURNING``. A backend opens connections that run it, gives rows
that answer to a column name and to a position (as ``sqlite3.Row`` does), and runs a write as
one transaction: all of it lands, or none of it.

SQLite: a short-lived connection per operation (WAL mode, a generous busy timeout), so the web
UI's threads, the CLI and scripts write to one file at once. Writes start with ``BEGIN
IMMEDIATE``: in WAL mode a deferred transaction that upgrades from read to write fails at once
with "database is locked", and the busy handler cannot help it.

PostgreSQL: a pool of connections per database and process (psycopg 3), so many processes on
many machines rate into one store; row locks order concurrent writes, and each connection is
checked before use, so the first write after a server restart lands.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from kickclip.errors import StoreError

BUSY_TIMEOUT_MS = 30_000
POSTGRES_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 10

# The pool retries in the background and logs each failure; a command reports one line itself.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.split("://", 1)[0].lower() in POSTGRES_SCHEMES


def database_location(value: str | Path) -> str | Path:
    """A ``--db`` value as the store takes it: a PostgreSQL URL stays text (a Path would fold
    its ``//``), anything else is a file path."""
    text = str(value)
    return text if is_postgres_url(text) else Path(value)


def without_password(url: str) -> str:
    """The URL to show in messages: the password, if any, hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class Connection(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class Backend(Protocol):
    dialect: str
    errors: tuple[type[BaseException], ...]
    location: str  # for messages

    def read(self) -> Any: ...  # context manager → Connection

    def write(self) -> Any: ...  # context manager → Connection, one transaction


# --- SQLite --------------------------------------------------------------------------------------
class _SqliteConnection:
    dialect = "sqlite"

    def __init__(self, db: sqlite3.Connection) -> None:
        self.raw = db
        self.execute = db.execute
        self.executemany = db.executemany


class SqliteBackend:
    dialect = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        parent = path.absolute().parent
        if not parent.is_dir():
            raise StoreError(f"cannot open clip database {path}: folder {parent} does not exist")
        try:
            self._use_wal()
        except sqlite3.Error as error:
            raise StoreError(f"cannot open clip database {path}: {error}") from None

    def _use_wal(self) -> None:
        """Switch to WAL (persistent: once per database). The switch needs the file to itself
        and SQLite does not wait for it, so a process opening the same new database at the
        same moment is waited out here."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                with closing(self._connect()) as db:
                    db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextmanager
    def read(self) -> Iterator[_SqliteConnection]:
        with closing(self._connect()) as db:
            yield _SqliteConnection(db)

    @contextmanager
    def write(self) -> Iterator[_SqliteConnection]:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteConnection(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


# --- PostgreSQL --------------------------------------------------------------------------------
class Row:
    """A result row by column name or by position, like ``sqlite3.Row``; ``dict(row)`` works."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: Sequence[Any]) -> None:
        self._names, self._values = names, tuple(values)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self._values[key]
        return self._values[self._names.index(key)]

    def keys(self) -> tuple[str, ...]:
        return self._names


def _row_factory(cursor: Any) -> Any:
    names = tuple(column.name for column in cursor.description or ())
    return lambda values: Row(names, values)


def _postgres_sql(sql: str) -> str:
    """The store's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresConnection:
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_postgres_sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        rows = [tuple(row) for row in rows]
        cursor = self.raw.cursor()
        if rows:
            cursor.executemany(_postgres_sql(sql), rows)
        return cursor


_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()


def _close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


class PostgresBackend:
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StoreError(
                "a PostgreSQL store needs psycopg: pip install 'kickclip[postgresql]'"
            ) from None
        self.url = url
        self.location = without_password(url)
        self.errors = (psycopg.Error,)
        with _POOLS_LOCK:  # one pool per database and process, shared by every store object
            pool = _POOLS.get(url)
            if pool is None:
                try:  # once directly: a wrong address fails now, with the server's reason
                    psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
                except psycopg.Error as error:
                    reason = " ".join(str(error).split())
                    where = self.location
                    raise StoreError(f"cannot open clip database {where}: {reason}") from None
                if not _POOLS:
                    atexit.register(_close_pools)
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=8,
                    open=True,
                    timeout=30,
                    # A connection the server dropped (a restart, an idle timeout) is
                    # replaced before use instead of failing the user's write.
                    check=ConnectionPool.check_connection,
                    kwargs={"row_factory": _row_factory, "connect_timeout": CONNECT_TIMEOUT_S},
                    name="kickclip",
                )
                _POOLS[url] = pool
        self.pool = pool

    @contextmanager
    def read(self) -> Iterator[_PostgresConnection]:
        with self.pool.connection() as conn:
            yield _PostgresConnection(conn)

    @contextmanager
    def write(self) -> Iterator[_PostgresConnection]:
        with self.pool.connection() as conn, conn.transaction():
            yield _PostgresConnection(conn)


def open_backend(location: str | Path) -> SqliteBackend | PostgresBackend:
    if is_postgres_url(location):
        return PostgresBackend(str(location))
    return SqliteBackend(Path(location))
