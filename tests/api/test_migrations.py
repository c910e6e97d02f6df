"""The schema is built only by the migrations: they must describe exactly the models, both ways."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from api.config import ROOT
from api.extensions import db


def test_migrations_match_the_models_and_run_down_and_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = create_engine(url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    engine.dispose()
