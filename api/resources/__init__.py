"""HTTP resources, one package per resource: routes.py (MethodViews) and schemas.py."""

from flask import Flask

from ..extensions import Api


def register(app: Flask, api: Api) -> None:
    from .auth.routes import blp as auth
    from .entries.routes import blp as entries
    from .evaluations.routes import blp as evaluations
    from .health.routes import blp as health
    from .patients.routes import blp as patients
    from .trials.routes import blp as trials
    from .users.routes import blp as users

    for blueprint in (health, auth, users, patients, trials, entries, evaluations):
        api.register_blueprint(blueprint)
