"""The database handle shared by the web app, RQ jobs and the CLI.

`db` is a proxy bound at start-up to the engine named by DATABASE_URL
(SQLite file or PostgreSQL, same URL form), so models import without a connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import peewee as pw
from playhouse.db_url import connect

db = pw.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers don't block the worker's writes
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def open_database(url: str) -> pw.Database:
    """Return an unconnected peewee database for a DATABASE_URL."""
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        path = url.split("://", 1)[1].lstrip("/")
        if path and path != ":memory:":
            Path("/" + path).parent.mkdir(parents=True, exist_ok=True)
        # BEGIN IMMEDIATE: a transaction takes the write lock when it starts (waiting up to
        # busy_timeout). A deferred one that read first can't upgrade once another process
        # has written under WAL, and fails at once with "database is locked".
        return connect(url, pragmas=_SQLITE_PRAGMAS, autoconnect=False, lock_type="IMMEDIATE")
    if scheme.startswith(("postgres", "postgresql")):
        return connect(url, autoconnect=False)
    raise ValueError(f"DATABASE_URL must start with sqlite:// or postgresql://, got {scheme}://")


def bind(url: str) -> pw.Database:
    """Bind the shared proxy to the database at url and return it."""
    database = open_database(url)
    db.initialize(database)
    return database


# A worker process runs a hundred job threads; on PostgreSQL they share this many connections
# (two processes stay well inside the server's default max_connections of 100, beside the web
# app). A thread waits up to POOL_WAIT seconds for a free one: the threads mostly wait on the
# network, holding no connection, so that is rare and short.
POOL_CONNECTIONS = 24
POOL_WAIT = 60


def bind_pooled(url: str) -> pw.Database:
    """Bind the proxy as bind() does, sharing a bounded pool of connections between threads on
    PostgreSQL (SQLite connections are a file handle each: nothing to bound)."""
    if not urlparse(url).scheme.startswith(("postgres", "postgresql")):
        return bind(url)
    from playhouse.pool import PooledPostgresqlDatabase

    template = open_database(url)
    database = PooledPostgresqlDatabase(
        template.database,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT,
        stale_timeout=300,
        autoconnect=False,
        **template.connect_params,
    )
    db.initialize(database)
    return database


# What peewee raises when the database can't be reached or the connection died under it (a
# server restart or crash): the driver's errors arrive wrapped in these two.
UNAVAILABLE = (pw.OperationalError, pw.InterfaceError)


def _connection_dead(target: pw.Database) -> bool:
    conn = None if target.is_closed() else target._state.conn
    # psycopg2 sets `closed` (non-zero) once the server went away; SQLite has no such state.
    return conn is not None and bool(getattr(conn, "closed", 0))


def drop_dead_connection(database: pw.Database | None = None) -> bool:
    """Forget the connection when its server went away (a restart, a crash), so the next
    connect() opens a fresh one instead of failing with "connection already closed" forever.
    Returns whether one was dropped."""
    target = database or db.obj
    if not _connection_dead(target):
        return False
    try:
        target.close()
    except (pw.PeeweeException, *UNAVAILABLE):  # a transaction was open on the dead connection
        target._state.reset()
    return True


@contextmanager
def connected(database: pw.Database | None = None) -> Iterator[pw.Database]:
    """Hold a connection for the block, closing it after only if the block opened it.

    A held connection whose server went away is replaced first, and one that dies inside the
    block is dropped when the error leaves it, so the next block reconnects by itself.
    """
    target = database or db.obj
    drop_dead_connection(target)
    opened = target.connect(reuse_if_open=True)
    try:
        yield target
    except UNAVAILABLE:
        drop_dead_connection(target)
        raise
    finally:
        if opened and not target.is_closed():
            target.close()


def engine_name(database: pw.Database | None = None) -> str:
    """Return 'sqlite' or 'postgresql' for the bound database."""
    target = database or db.obj
    return "postgresql" if isinstance(target, pw.PostgresqlDatabase) else "sqlite"


def migrate(database: pw.Database | None = None) -> list[str]:
    """Apply pending versioned migrations and return their names."""
    from playhouse.migrations import Runner

    target = database or db.obj
    with connected(target):
        return Runner(target, str(MIGRATIONS_DIR)).up()


def migration_status(database: pw.Database | None = None) -> list[tuple[str, object]]:
    """Return (name, applied_at or None) for every migration file and history row."""
    from playhouse.migrations import Runner

    target = database or db.obj
    with connected(target):
        return [(m.name, m.applied) for m in Runner(target, str(MIGRATIONS_DIR)).status()]


# --- the web app: one connection per request ---------------------------------------------------


def init_app(app) -> None:
    """Bind the database named by DATABASE_URL and manage connections per request (with the
    keyring and mail settings the web app configures at the same time)."""
    from flask import g

    from webapp import crypto, mail
    from webapp.config import old_secret_keys

    database = bind(app.config["DATABASE_URL"])
    app.extensions["database"] = database
    crypto.configure(app.config["SECRET_KEY"], old_secret_keys(app.config))
    mail.configure(app.config)

    @app.before_request
    def _connect() -> None:
        # Close at teardown only what this request opened (a CLI command or test may hold one).
        # A held connection whose server restarted is replaced, not reused.
        drop_dead_connection(database)
        g.cadence_db_opened = database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc) -> None:
        opened = g.pop("cadence_db_opened", False)
        if drop_dead_connection(database):
            return
        if opened and not database.is_closed():
            database.close()
