"""flask-smorest with the project's defaults: bearer security scheme, errors shaped by api.errors, a stricter
argument parser (unknown query parameters refused, text PostgreSQL can store, no unbounded JSON nesting), and
bounded ids in every `<int:...>` route."""

from __future__ import annotations

import flask_smorest
import marshmallow as ma
from flask import current_app, request, send_from_directory
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

__all__ = ["Api", "Blueprint", "ErrorSchema"]


def _swagger_ui_asset(filename: str):
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(swagger_ui_path, filename, max_age=86400)


class ErrorSchema(ma.Schema):
    """The one error shape of api.errors, as the OpenAPI document describes every error response."""

    code = ma.fields.String(required=True, metadata={"description": "e.g. validation_error, not_found, conflict"})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    message = ma.fields.String(required=True)
    errors = ma.fields.Dict(metadata={"description": "Per field (or per location, then field): what is wrong."})
    details = ma.fields.Dict(metadata={"description": "Facts about a conflict, e.g. {\"entry_id\": 12}."})


class Parser(FlaskParser):
    """webargs' Flask parser, stricter where PostgreSQL or the phone's contract need it."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            return core.parse_json(req.get_data(cache=True))
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})

    def pre_load(self, location_data, *, schema, req, location):
        """Refuse text PostgreSQL cannot store (NUL, lone surrogates), naming the field; a `Raw` field is left to
        the view, which validates its items one by one (a batch's entries)."""
        from ..resources.fields import unstorable_text

        if location in ("json", "query", "querystring") and location_data is not core.missing:
            checked = location_data
            if isinstance(location_data, dict):
                raw = {name for name, field in schema.fields.items() if _is_raw(field)}
                checked = {key: value for key, value in location_data.items() if key not in raw}
            if problems := unstorable_text(checked):
                abort(422, messages={location: problems} if location != "json" else problems)
        return location_data


def _is_raw(field: ma.fields.Field) -> bool:
    inner = field.inner if isinstance(field, ma.fields.List) else field
    return isinstance(inner, ma.fields.Raw)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one schema instance per endpoint: webargs would build one per request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *args, **kwargs):
        from ..resources.fields import MAX_ID, IdConverter, documented_as_its_schema

        super().init_app(app, *args, **kwargs)
        app.add_url_rule("/api/v1/docs/assets/<path:filename>", "swagger_ui_assets", _swagger_ui_asset)
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.options["security"] = [{"bearer": []}]
        self.register_converter(IdConverter, lambda _: {"type": "integer", "minimum": 0, "maximum": MAX_ID})
        self.ma_plugin.converter.add_attribute_function(documented_as_its_schema)
        app.before_request(_refuse_query_of_views_without_one)

    def _register_error_handlers(self):
        """The app-wide handlers of api.errors give every error one shape; smorest's would differ."""


def _refuse_query_of_views_without_one():
    """A query parameter on an API view that declares none is refused, as an unknown body field is.

    Views that declare query arguments refuse unknown ones through the parser (Parser.DEFAULT_UNKNOWN_BY_LOCATION).
    """
    if not request.args or request.url_rule is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    method = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    documented = getattr(method, "_apidoc", None)
    if documented is None:
        return None  # not an API resource (the docs pages)
    parameters = documented.get("arguments", {}).get("parameters", [])
    if any(p.get("in") == "query" for p in parameters):
        return None
    abort(422, messages={"query": {name: ["Unknown field."] for name in request.args}})
