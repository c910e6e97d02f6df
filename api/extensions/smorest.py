"""flask-smorest Api with the project's defaults: bearer security scheme, errors shaped by api.errors."""

from __future__ import annotations

import flask_smorest
from flask import send_from_directory

__all__ = ["Api", "Blueprint"]


def _swagger_ui_asset(filename: str):
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(swagger_ui_path, filename, max_age=86400)


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one schema instance per endpoint: webargs would build one per request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class Api(flask_smorest.Api):
    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        app.add_url_rule("/api/v1/docs/assets/<path:filename>", "swagger_ui_assets", _swagger_ui_asset)
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.options["security"] = [{"bearer": []}]

    def _register_error_handlers(self):
        """The app-wide handlers of api.errors give every error one shape; smorest's would differ."""
