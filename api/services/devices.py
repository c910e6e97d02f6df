"""Patients' phones and browsers, registered for push reminders."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from ..channels.push import webpush
from ..clock import now
from ..errors import Invalid
from ..extensions import db
from ..models import Device
from .access import Actor


def register_device(*, user: Actor, platform: str, token: str) -> tuple[Device, bool]:
    """Register a phone for pushes; registering the same token again refreshes it and reactivates it (after
    the provider reported it unregistered, the app may have been reinstalled and handed the token back).

    A token names one app installation: if another patient had registered it (a phone handed on), that
    patient's device is deactivated, so their pushes do not reach someone else's hands.

    A browser's token is its push subscription: its endpoint must be allowed (channels/push/webpush.py), and it
    is stored in one canonical form, so that the same subscription sent twice is the same device."""
    if platform == "web":
        token, problem = webpush.subscription(token, allow_private=current_app.config["WEB_PUSH_ALLOW_PRIVATE"])
        if problem:
            raise Invalid("The push subscription cannot receive pushes.", errors={"token": [problem]})
    moment = now()
    db.session.execute(
        update(Device).where(Device.token == token, Device.user_id != user.id, Device.active.is_(True))
        .values(active=False, deactivated_at=moment))
    device = db.session.execute(
        select(Device).where(Device.user_id == user.id, Device.token == token)).scalar_one_or_none()
    if device is not None:
        device.platform, device.last_seen_at = platform, moment
        device.active, device.deactivated_at = True, None
        db.session.commit()
        return device, False
    device = Device(user_id=user.id, platform=platform, token=token, created_at=moment, last_seen_at=moment)
    db.session.add(device)
    db.session.commit()
    return device, True

