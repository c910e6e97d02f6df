"""flask-smorest Api with the project's defaults: bearer security scheme, errors shaped by api.errors."""

from __future__ import annotations

import flask_smorest
from flask_smorest import Blueprint

__all__ = ["Api", "Blueprint"]


class Api(flask_smorest.Api):
    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.options["security"] = [{"bearer": []}]

    def _register_error_handlers(self):
        """The app-wide handlers of api.errors give every error one shape; smorest's would differ."""
