"""Command-line tasks for operators: `flask --app wsgi create-user ...`, `flask --app wsgi migrate`."""

from __future__ import annotations

import sys

import click
from flask import Flask

from .config import ROOT
from .errors import DomainError
from .models.clinic import STAFF_ROLES
from .services.passwords import password_problem


def migrate_database(url: str) -> None:
    """Bring the database at `url` to the newest Alembic revision."""
    from alembic import command

    command.upgrade(_alembic_config(url), "head")


def _alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migration_problem(app: Flask) -> str | None:
    """What an operator must do before the database can be used (never migrated, or behind); None when it is at
    the newest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from .extensions import db

    heads = set(ScriptDirectory.from_config(_alembic_config(app.config["SQLALCHEMY_DATABASE_URI"])).get_heads())
    with app.app_context(), db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "The database has no tables yet: run `flask --app wsgi migrate` first."
    if current != heads:
        return "The database is not at the newest revision: run `flask --app wsgi migrate` first."
    return None


def register(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate():
        """Apply the database migrations (Alembic upgrade to head)."""
        migrate_database(app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo("database is at the newest revision")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--role", required=True, type=click.Choice(STAFF_ROLES))
    @click.option("--clinic", "clinic_name", required=True, help="Clinic name; created when it does not exist.")
    @click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
    def create_user(email: str, role: str, clinic_name: str, password_stdin: bool):
        """Create a staff user (and the clinic when new)."""
        from .services.users import bootstrap_user

        if problem := migration_problem(app):
            raise click.ClickException(problem)
        password = sys.stdin.readline().rstrip("\n")
        if problem := password_problem(password, email=email):
            raise click.UsageError(f"The password is not allowed: {problem}")
        try:
            user = bootstrap_user(clinic_name=clinic_name, email=email, role=role, password=password)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"created {user.role} user {user.id} in clinic {user.clinic_id}")

    @app.cli.command("web-push-keys")
    def web_push_keys():
        """Make the VAPID key of Web Push (VAPID_PRIVATE_KEY_FILE) unless there is one; print its public key."""
        from pathlib import Path

        from .channels.push import webpush

        path = Path(app.config["VAPID_PRIVATE_KEY_FILE"])
        made = webpush.generate_key(path)
        click.echo(f"{'made' if made else 'kept'} the Web Push key {path}; public key {webpush.public_key(app.config)}")
