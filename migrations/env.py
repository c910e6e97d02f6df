"""Alembic environment: the URL comes from the app's settings unless the caller sets one."""

from alembic import context
from sqlalchemy import create_engine

from api import config as settings
from api import models  # noqa: F401  (registers every table on the metadata)
from api.extensions.database import db, tune_sqlite

url = context.config.get_main_option("sqlalchemy.url") or settings.load()["SQLALCHEMY_DATABASE_URI"]
target_metadata = db.metadata


def run_migrations_online() -> None:
    engine = create_engine(url)
    tune_sqlite(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
