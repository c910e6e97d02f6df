"""flask-smorest with the project's defaults: bearer security scheme, errors shaped by api.errors, a stricter
argument parser (unknown query parameters refused, text PostgreSQL can store, no unbounded JSON nesting), bounded
ids in every `<int:...>` route, and the OpenAPI document's conventions of api.extensions.openapi (operationIds,
documented errors, nullable types) applied to every operation."""

from __future__ import annotations

import http
import json

import flask_smorest
import marshmallow as ma
from flask import current_app, request, send_from_directory
from flask_smorest import abort
from flask_smorest.utils import prepare_response
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from . import openapi

__all__ = ["Api", "Blueprint", "ErrorSchema"]


def _swagger_ui_asset(filename: str):
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(swagger_ui_path, filename, max_age=86400)


class ConflictDetailsSchema(openapi.Out):
    """Facts about a conflict, so that the caller can act on it without another request."""

    entry_id = openapi.optional(ma.fields.Integer(metadata={
        "description": "The entry stored under this client_id."}))
    acknowledged_by = openapi.optional(ma.fields.Integer(allow_none=True, metadata={
        "description": "Who acknowledged the alert already (a user id)."}))
    acknowledged_at = openapi.optional(ma.fields.DateTime(metadata={"description": "When the alert was acknowledged."}))


class ErrorSchema(openapi.Out):
    """The one error shape of api.errors, as the OpenAPI document describes every error response."""

    code = ma.fields.String(metadata={
        "description": "What went wrong, for programs: e.g. validation_error, not_found, conflict, trial_closed, "
                       "unauthorized, password_change_required, service_unavailable."})
    status = ma.fields.Integer(metadata={"description": "The HTTP status."})
    message = ma.fields.String(metadata={"description": "What went wrong, in words."})
    errors = openapi.optional(openapi.FieldErrors(metadata={
        "description": "Per field (or per location, then field): what is wrong."}))
    details = openapi.optional(ma.fields.Nested(ConflictDetailsSchema, metadata={
        "description": "Facts about a conflict."}))


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
        except json.JSONDecodeError:
            raise  # webargs answers it (400)
        except ValueError:  # Python refuses to read an integer of more than 4,300 digits (CVE-2020-10735)
            abort(400, messages={"json": ["A number in the JSON body is too long."]})

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

    # flask-smorest builds each operation's document with the callbacks of _prepare_doc_cbks, from the per-method
    # doc it keeps in _docs[endpoint] (filled by add_url_rule, its endpoint last in _endpoints): the conventions
    # are one more callback, fed with the facts that only the route and the view's code know.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_conventions_doc)

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **kwargs):
        """As flask-smorest's, keeping what each method's code says about its operation (api.extensions.openapi)."""
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **kwargs)
        view_class = view_func if isinstance(view_func, type) else None
        for method, doc in self._docs[self._endpoints[-1]].items():
            if method != "parameters":
                function = getattr(view_class, method) if view_class else view_func
                doc["facts"] = openapi.view_facts((self.url_prefix or "") + rule, view_class, function)

    @staticmethod
    def without_database(view):
        """Marks a view that answers without the database (a liveness probe): no 503 is documented for it."""
        view.without_database = True
        return view

    @staticmethod
    def _prepare_conventions_doc(doc, doc_info, *, api, method, **_):
        return openapi.complete_operation(doc, doc_info["facts"], method=method,
                                          manual=doc_info.get("manual_doc", {}), error_schema=api.ERROR_SCHEMA)

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one schema instance per endpoint: webargs would build one per request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *args, **kwargs):
        from ..resources.fields import MAX_ID, IdConverter, documented_as_its_schema

        spec_kwargs = {"marshmallow_plugin": openapi.MarshmallowPlugin(), **(kwargs.pop("spec_kwargs", None) or {})}
        super().init_app(app, *args, spec_kwargs=spec_kwargs, **kwargs)
        app.add_url_rule("/api/v1/docs/assets/<path:filename>", "swagger_ui_assets", _swagger_ui_asset)
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.options["security"] = [{"bearer": []}]
        self.spec.options["servers"] = openapi.SERVERS
        self.spec.options["info"] = {"description": openapi.DESCRIPTION, "license": {
            "name": app.config["API_LICENSE_NAME"], "url": app.config["API_LICENSE_URL"]}}
        self.spec.components.schema(openapi.FIELD_ERRORS_COMPONENT, openapi.FIELD_ERRORS)
        self.register_converter(IdConverter, lambda _: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        self.ma_plugin.converter.add_attribute_function(documented_as_its_schema)
        app.before_request(_refuse_query_of_views_without_one)

    def _register_responses(self):
        """flask-smorest's response components, with the words and headers of api.extensions.openapi.ERRORS (only
        those an operation uses appear in the document)."""
        ours = openapi.error_responses()
        for status in http.HTTPStatus:
            response = {"description": status.phrase, **ours.get(status.name, {})}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": openapi.DEFAULT_ERROR, "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_pagination_header(self):
        """None: flask-smorest's pagination is unused (pages carry a cursor), and its header's schema would be an
        unused component of the document."""

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
