"""Patients' phones, registered for push reminders."""

from __future__ import annotations

from sqlalchemy import select

from ..clock import now
from ..extensions import db
from ..models import Device
from .access import Actor


def register_device(*, user: Actor, platform: str, token: str) -> tuple[Device, bool]:
    """Register a phone for reminders; registering the same token again only refreshes it."""
    device = db.session.execute(
        select(Device).where(Device.user_id == user.id, Device.token == token)).scalar_one_or_none()
    if device is not None:
        device.platform, device.last_seen_at = platform, now()
        db.session.commit()
        return device, False
    device = Device(user_id=user.id, platform=platform, token=token)
    db.session.add(device)
    db.session.commit()
    return device, True
