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
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


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

        password = sys.stdin.readline().rstrip("\n")
        if problem := password_problem(password, email=email):
            raise click.UsageError(f"The password is not allowed: {problem}")
        try:
            user = bootstrap_user(clinic_name=clinic_name, email=email, role=role, password=password)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"created {user.role} user {user.id} in clinic {user.clinic_id}")
