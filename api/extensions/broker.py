"""The embedded broker (kombu's SQLAlchemy transport on SQLite), made fit to run beside the API and beat.

Three things in kombu's transport stalled the embedded pipeline (issue 24), each fixed here, the one place that
overrides its internals:

- It opens SQLite with the driver's defaults: a rollback journal (a reader blocks the writer) and a 5 s lock
  timeout. Its consumer takes SQLite's write lock on every poll (`BEGIN IMMEDIATE`), beat and the outbox sweep
  publish into the same file, and a lock not had within 5 s is an OperationalError, which kombu treats as a
  lost connection: the worker's consumer reconnects with a growing back-off while messages pile up and beat's
  sweeps expire unconsumed. Here: WAL and a 30 s busy timeout, as the application's own SQLite has.
- A taken message is only marked invisible, never deleted, and each poll looks for the oldest visible one
  under that write lock: the table grows by every task ever sent (beat alone sends ~10 a minute) and every
  poll reads more of it. Here: taken messages are deleted in batches.
- An empty poll sleeps a whole second, which each task hop of the pipeline (sweep, safety check,
  notification) paid. Here: a tenth of a second, a cheap read of an index on a table now kept small.

`sqla+sqlite://` URLs (the default CELERY_BROKER_URL) are served by this transport; other URLs are untouched.
"""

from __future__ import annotations

from kombu import transport
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import event

ALIAS = "trial-diary-sqlite"
TIDY_EVERY = 100  # taken messages deleted once this many were taken by a channel
BUSY_TIMEOUT_SECONDS = 30


class Channel(kombu_sqlalchemy.Channel):
    _taken = 0

    def _engine_from_config(self):
        engine = super()._engine_from_config()

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        return engine

    def _get(self, queue):
        payload = super()._get(queue)  # raises Empty when there is none
        self._taken += 1
        if self._taken % TIDY_EVERY == 0:
            self.session.query(self.message_cls).filter(self.message_cls.visible.is_(False)).delete(
                synchronize_session=False)
            self.session.commit()
        return payload


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel
    polling_interval = 0.1


def broker_url(url: str) -> str:
    """The URL Celery is given: an embedded SQLite broker's goes to the transport above."""
    if not url.startswith("sqla+sqlite:"):
        return url
    transport.TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
    return ALIAS + url.removeprefix("sqla")
