"""HTTP resources, one package per resource: routes.py (MethodViews) and schemas.py."""

from flask import Flask

from ..extensions import Api


def register(app: Flask, api: Api) -> None:
    from .alerts.routes import blp as alerts
    from .auth.routes import blp as auth
    from .call_backs.routes import blp as call_backs
    from .clinic.routes import blp as clinic
    from .decisions.routes import blp as decisions
    from .devices.routes import blp as devices
    from .documentation.routes import blp as documentation
    from .entries.routes import blp as entries
    from .evaluations.routes import blp as evaluations
    from .exports.routes import blp as exports
    from .health.routes import blp as health
    from .me.routes import blp as me
    from .monitoring.routes import blp as monitoring
    from .pathway.routes import blp as pathway
    from .patients.routes import blp as patients
    from .protocols.routes import blp as protocols
    from .terminology.routes import blp as terminology
    from .texting.routes import blp as texting
    from .trials.routes import blp as trials
    from .users.routes import blp as users
    from .webhooks.routes import blp as webhooks

    for blueprint in (health, auth, users, patients, trials, entries, evaluations, alerts, monitoring, webhooks,
                      devices, decisions, exports, pathway, protocols, clinic, documentation, call_backs, texting,
                      me, terminology):
        api.register_blueprint(blueprint)
