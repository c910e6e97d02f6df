"""The SQLAlchemy handle, column types that behave the same on SQLite and PostgreSQL, SQLite tuning."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

# What the columns hold: ids are PostgreSQL `integer` (a larger one is no row, and binding it is a DataError);
# instants lie in this range (nothing a diary records is older, and year 1 at +14:00 cannot even be converted).
MAX_ID = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def dialect_statement(build: Callable[[Callable], Executable]) -> Callable[[], Executable]:
    """A statement that needs the backend's own INSERT (for ON CONFLICT), built once per backend, not per call.

    `build(insert)` receives PostgreSQL's or SQLite's `insert` and returns the statement; the values are
    passed as parameters when it is executed.
    """
    built: dict[str, Executable] = {}

    def statement() -> Executable:
        backend = db.session.get_bind().dialect.name
        if backend not in built:
            built[backend] = build(postgresql.insert if backend == "postgresql" else sqlite.insert)
        return built[backend]

    return statement


def statements_commit_alone(view: Callable) -> Callable:
    """View decorator: on PostgreSQL, each statement the view runs commits on its own (autocommit).

    For a view whose every write is one statement (the diary's entry POST, where a writable CTE stores the
    entry, its follow-up message and its audit row together): it saves the BEGIN and COMMIT round trips.
    Never put it on a view that needs two statements to commit together. It must wrap the view outermost,
    so that it comes before the token check's first query. SQLite keeps its transaction: there, the entry
    takes three statements, and BEGIN IMMEDIATE is what serialises writers.
    """

    @wraps(view)
    def in_autocommit(*args, **kwargs):
        if db.engine.dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return in_autocommit


class Base(DeclarativeBase):
    pass


def get_locked(model, ident):
    """The row of `model` with primary key `ident`, locked FOR UPDATE until the transaction ends; None if none.

    The lock names the model's own table only: PostgreSQL refuses FOR UPDATE on the nullable side of an outer
    join, which a relationship loaded with lazy="joined" adds (Trial.patient, AuthSession.user). SQLite has no
    row locks; there BEGIN IMMEDIATE serialises writers instead.
    """
    return db.session.get(model, ident, with_for_update={"of": model})


# Objects stay loaded after commit: a response is built from what the request just wrote, not re-read.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def tune_sqlite(engine: Engine) -> None:
    """SQLite as a server-like store: WAL, foreign keys, waiting on locks, one writer at a time.

    Bound to our own engines only: the embedded Celery broker has an engine of its own.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # Autocommit at the driver level so that the "begin" hook below controls transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection):
        # SQLite allows one writer: taking the write lock up front avoids "database is locked" when a
        # read transaction later tries to write. This is what serialises the embedded default.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


IDLE_BEFORE_PING_SECONDS = 1.0


def ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection that sat idle before handing it out; a dead one is replaced, not used.

    After a PostgreSQL restart every pooled connection is dead, and the first request on each would fail:
    this is pool_pre_ping for the connections that need it. A connection back in the pool less than a second
    ago has just answered a statement, and under load (the diary's ingest) connections go round far faster than
    that, so the hot path pays no extra round trip. A connection that dies within that second fails its
    request with a 503, and the disconnect invalidates the rest of the pool, which is then reconnected.
    """
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # the driver opened a transaction for the ping; hand out a clean one
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError("pooled connection is dead") from error
