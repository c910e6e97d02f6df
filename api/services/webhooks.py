"""Clinic webhooks, registered by the clinic admin."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select

from ..channels.webhook import url_problem
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Webhook
from .access import Actor


def register_webhook(*, admin: Actor, url: str, description: str | None) -> Webhook:
    """A new endpoint with its own signing secret (shown once, in this answer)."""
    if problem := url_problem(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"]):
        raise Invalid("The webhook address is not allowed.", errors={"url": [problem]})
    hook = Webhook(clinic_id=admin.clinic_id, url=url, description=description, secret=secrets.token_urlsafe(32))
    db.session.add(hook)
    db.session.commit()
    return hook


def list_webhooks(*, admin: Actor) -> list[Webhook]:
    return list(db.session.execute(
        select(Webhook).where(Webhook.clinic_id == admin.clinic_id).order_by(Webhook.id)).scalars())


def deactivate_webhook(*, admin: Actor, webhook_id: int) -> Webhook:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or hook.clinic_id != admin.clinic_id:
        raise NotFound("No such webhook.")
    hook.active = False
    db.session.commit()
    return hook
