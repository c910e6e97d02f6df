"""Push to patients' phones through a provider; the development provider records what would be sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from flask import current_app

from ..extensions import db
from . import DeliveryError


class PushProvider(Protocol):
    def push(self, *, platform: str, token: str, title: str, body: str, data: dict) -> None: ...


class DevelopmentProvider:
    """Appends each push to instance/push.jsonl (token shortened) instead of sending it."""

    def push(self, *, platform: str, token: str, title: str, body: str, data: dict) -> None:
        path = Path(current_app.config["INSTANCE_PATH"]) / "push.jsonl"
        with path.open("a") as file:
            file.write(json.dumps({"platform": platform, "token_tail": token[-6:], "title": title, "body": body,
                                   "data": data}) + "\n")


PROVIDERS: dict[str, type] = {"development": DevelopmentProvider}


def send(notification) -> None:
    from ..models import Device

    device = db.session.get(Device, int(notification.destination))
    if device is None:
        raise DeliveryError("the device was unregistered", permanent=True)
    provider_class = PROVIDERS.get(current_app.config["PUSH_PROVIDER"])
    if provider_class is None:
        raise DeliveryError(f"no push provider named {current_app.config['PUSH_PROVIDER']!r}", permanent=True)
    provider_class().push(platform=device.platform, token=device.token, title=notification.subject,
                          body=notification.body, data={"delivery_id": notification.delivery_id, **notification.data})
