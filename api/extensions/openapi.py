"""The OpenAPI document's conventions, applied to every operation in one place: a stable operationId derived from
the method and the route, the errors the operation can answer, nullable fields with their type, typed unions and
the typed map of per-field errors. A route or a schema added anywhere gets them with no code of its own; the
Blueprint and Api of api.extensions.smorest call this module."""

from __future__ import annotations

import http
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import marshmallow as ma
from apispec.ext import marshmallow as apispec_marshmallow

API_PREFIX = "/api/v1"
SERVERS = [{"url": "/", "description": "This server: paths begin with /api/v1."}]
DESCRIPTION = """The backend of the Trial Diary phone app and of the clinic's tools: patients record their diary
during a neuromodulation trial or after a diagnostic block; the care team follows the evaluation, the alerts and the
decision.

Sign in with `POST /api/v1/auth/login` (or `POST /api/v1/auth/enroll` with an enrollment code) and send the access
token as `Authorization: Bearer ...`. Every error has one JSON shape (`Error`): `code`, `status`, `message`, and
for invalid input `errors` naming each field. A 503 with `Retry-After` means nothing was stored: send the same
request again. Diary entries are idempotent on their `client_id`: retrying an upload never duplicates an entry."""

# A POST to a route ending in one of these words is an action on the object before it (POST /alerts/{id}/acknowledge
# is acknowledgeAlert), not the creation of a sub-resource. A new action route adds its verb here.
ACTIONS = frozenset({"acknowledge", "enroll", "login", "logout", "refresh"})
# Words that qualify the resource after them rather than name one: POST /me/devices is createMyDevice, POST
# /auth/sign-in-link createSignInLink; last in a route, they name it (GET /me is getMe).
QUALIFIERS = {"me": "my", "auth": ""}
# Words ending in s that name one thing: GET /alerts/statistics is getAlertStatistics, not a list.
SINGULAR_NOUNS = frozenset({"statistics"})
VERBS = {"get": "get", "post": "create", "put": "replace", "patch": "update", "delete": "delete"}


def operation_id(method: str, rule: str) -> str:
    """A readable operationId from the HTTP method and the Flask route: listTrialEntries, createTrialEntry, getTrial,
    updateTrialEntry, replaceTrialDocumentation, acknowledgeAlert, login. It changes only when the route does."""
    words = [word for word in rule.removeprefix(API_PREFIX).split("/") if word]
    is_parameter = [word.startswith("<") for word in words]
    named = [i for i, word in enumerate(words) if not is_parameter[i]]
    last = words[-1]
    if method == "post" and last in ACTIONS:
        objects = [words[i] for i in named[:-1] if i + 1 < len(words) and is_parameter[i + 1]]
        return _camel([last, *map(_singular, objects)])
    nouns = [QUALIFIERS[words[i]] if words[i] in QUALIFIERS and i != named[-1] else _singular(words[i])
             for i in named]
    if method == "get" and not is_parameter[-1] and _plural(last):
        return _camel(["list", *nouns[:-1], last])
    return _camel([VERBS[method], *nouns])


def _singular(word: str) -> str:
    if "." in word or word in SINGULAR_NOUNS:  # a file name: report.pdf, entries.csv
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:  # sms stays sms
        return word[:-1]
    return word


def _plural(word: str) -> bool:
    return _singular(word) != word and "." not in word


def _camel(words: list[str]) -> str:
    parts = [part for word in words for part in word.replace("-", "_").replace(".", "_").split("_") if part]
    return parts[0].lower() + "".join(part[:1].upper() + part[1:] for part in parts[1:])


# --- errors ------------------------------------------------------------------------------------------------------

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer", "minimum": 0}}}
# Every error an operation can answer, as the error handlers of api.errors shape it; the Api registers one response
# component per status (named by http.HTTPStatus, as flask-smorest names them).
ERRORS: dict[int, tuple[str, dict[str, Any] | None]] = {
    400: ("The JSON body is not valid JSON.", None),
    401: ("No valid bearer token, or its sign-in was revoked or has expired: sign in again.", None),
    403: ("The caller's role may not do this.", None),
    404: ("No such object, or one the caller may not see: the answer is the same.", None),
    409: ("The change conflicts with what is stored.", None),
    413: ("The body is larger than the server accepts.", None),
    422: ("Some fields or query parameters are not valid; `errors` names each one. Unknown query parameters are "
          "refused too.", None),
    429: ("Too many failed attempts from this address or for this account: wait Retry-After seconds.", RETRY_AFTER),
    503: ("The database is briefly unavailable and nothing was stored: try again after Retry-After seconds.",
          RETRY_AFTER),
}
DEFAULT_ERROR = "Any other error (a 500 is a bug: report its request id, the X-Request-ID header)."


@dataclass(frozen=True)
class Facts:
    """What the view's code says about one operation, read when its route is registered."""

    rule: str  # the Flask route with the blueprint's prefix, e.g. /api/v1/trials/<int:trial_id>/entries
    roles: tuple[str, ...] | None  # the guard's roles (api.services.access.requires); None without that guard
    rate_limited: bool  # a Flask-Limiter limit applies to the view
    reads_database: bool  # False only for a view marked Blueprint.without_database


def view_facts(rule: str, view_class: type | None, function) -> Facts:
    """The facts of one method of a view, from the markers its decorators left on it."""
    from flask_limiter import RouteLimit

    # Flask-Limiter marks the function its limit decorator wraps with this attribute (its own way of finding
    # stacked limits); a MethodView's class-level `decorators` hold the limit objects themselves.
    limited = getattr(function, "__wrapper-limiter-instance", None) is not None or any(
        isinstance(decorator, RouteLimit) for decorator in getattr(view_class, "decorators", ()))
    return Facts(rule=rule, roles=getattr(function, "allowed_roles", None), rate_limited=limited,
                 reads_database=not getattr(function, "without_database", False))


def errors_of(facts: Facts, *, public: bool, body: str | None) -> list[int]:
    """The error statuses an operation can answer, from what its code says (ERRORS describes each)."""
    statuses = {422}  # every API view refuses query parameters it does not declare
    if not public:
        statuses.add(401)
    if facts.roles:
        statuses.add(403)
    if "<" in facts.rule:  # a path parameter: converters and services answer 404 for what is missing or foreign
        statuses.add(404)
    if body is not None:  # the media type of the request body
        statuses |= {400, 413} if body == "application/json" else {413}
    if facts.rate_limited:
        statuses.add(429)
    if facts.reads_database:
        statuses.add(503)
    return sorted(statuses)


def complete_operation(doc: dict[str, Any], facts: Facts, *, method: str, manual: dict[str, Any],
                       error_schema: type[ma.Schema]) -> dict[str, Any]:
    """Give an operation its operationId and the errors it can answer; an error the view documents itself (a 409
    with its own words) gets the Error schema when it names none."""
    doc["operationId"] = operation_id(method, facts.rule)
    responses = doc.setdefault("responses", {})
    documented = {str(status) for status in responses} | {str(status) for status in manual.get("responses", {})}
    public = manual.get("security") == []
    body = next(iter(doc["requestBody"]["content"]), None) if "requestBody" in doc else None
    for status in errors_of(facts, public=public, body=body):
        if str(status) not in documented:
            responses[status] = http.HTTPStatus(status).name  # the Api's response component
    for status, response in responses.items():
        if str(status)[0] in "45" and isinstance(response, dict) and "content" not in response:
            response["content"] = {"application/json": {"schema": error_schema}}
    return doc


def error_responses() -> dict[str, dict[str, Any]]:
    """The response components of ERRORS, by http.HTTPStatus name; the Error schema is added by the caller."""
    components = {}
    for status, (description, headers) in ERRORS.items():
        components[http.HTTPStatus(status).name] = {"description": description, **({"headers": headers}
                                                                                    if headers else {})}
    return components


# --- response schemas --------------------------------------------------------------------------------------------


class Out(ma.Schema):
    """A response schema: every field it declares is in every response, so the OpenAPI document lists it as
    `required` (a response is only dumped: `required` documents, it validates nothing), unless it is declared
    `optional(...)`. Fields inherited from an input schema keep that schema's `required`."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        if field_name in _declared_by_outputs(type(self)):
            field_obj.required = not field_obj.metadata.get("optional", False)


@cache
def _declared_by_outputs(schema: type[ma.Schema]) -> frozenset[str]:
    inputs = [base for base in schema.__mro__[1:] if issubclass(base, ma.Schema) and not issubclass(base, Out)]
    inherited = {name for base in inputs for name in getattr(base, "_declared_fields", {})}
    return frozenset(set(schema._declared_fields) - inherited)


def optional(field: ma.fields.Field) -> ma.fields.Field:
    """A response field that some responses leave out (an entry's optional parts, an answer's extras)."""
    field.metadata = {**field.metadata, "optional": True}
    return field


def one_of(choices: Iterable[str], **kwargs) -> ma.fields.String:
    """A string from a closed vocabulary (the domain's own tuple): an `enum` in the OpenAPI document."""
    return ma.fields.String(validate=ma.validate.OneOf(list(choices)), **kwargs)


# --- what the document types specially ---------------------------------------------------------------------------

# The schema of a file answered as it is (a PDF; a CSV is text): `@blp.response(200, BINARY, content_type=...)`.
BINARY = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}

FIELD_ERRORS_COMPONENT = "FieldErrors"
FIELD_ERRORS = {
    "type": "object",
    "description": "What is wrong, per field: a list of messages, one message, or the errors of a nested object or "
                   "of a list's items (keyed by field name or item index). `_schema` is about the object as a "
                   "whole; `json` and `query` name where a request was refused before its fields were read.",
    "additionalProperties": {"anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "string"},
        {"$ref": f"#/components/schemas/{FIELD_ERRORS_COMPONENT}"},
    ]},
}


class FieldErrors(ma.fields.Dict):
    """A map of per-field errors (a 422's `errors`, a batch result's): documented as the FieldErrors component."""


class Either(ma.fields.Raw):
    """A value of one of several types, dumped as it is and documented as `anyOf` its alternatives (fields or
    schemas): a criterion's value is a number, or an object for `function`."""

    def __init__(self, *alternatives: ma.fields.Field | type[ma.Schema] | ma.Schema, **kwargs):
        super().__init__(**kwargs)
        self.alternatives = alternatives


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` admitting null in OpenAPI 3.0: `nullable` beside a `type` (a $ref cannot carry siblings)."""
    if "$ref" in schema:
        return {"type": "object", "nullable": True, "allOf": [{"$ref": schema["$ref"]}]}
    return {**schema, "nullable": True}


class Converter(apispec_marshmallow.OpenAPIConverter):
    """apispec's field converter with the document's conventions: nullable fields keep their type, Either fields are
    `anyOf` their alternatives, FieldErrors fields are the FieldErrors component."""

    def init_attribute_functions(self, *args, **kwargs):
        super().init_attribute_functions(*args, **kwargs)
        self.attribute_functions.append(self.union_and_error_map)

    def field2nullable(self, field: ma.fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
        """In OpenAPI 3.0, apispec's nested form (`anyOf` an untyped nullable object and the $ref) lets any object
        through and types as an empty record: here `nullable` stands beside a `type`. Unions and error maps say
        it themselves (union_and_error_map)."""
        if not field.allow_none or isinstance(field, Either | FieldErrors):
            return {}
        if "$ref" in ret:
            return nullable({"$ref": ret.pop("$ref")})
        if "allOf" in ret:
            return {"type": "object", "nullable": True}
        return {"nullable": True}

    def union_and_error_map(self, field: ma.fields.Field, ret: dict[str, Any], **_) -> dict[str, Any]:
        if isinstance(field, FieldErrors):
            description = ret.get("description")
            ret.clear()  # a Dict's open additionalProperties: the component says what the values are
            schema = {"$ref": f"#/components/schemas/{FIELD_ERRORS_COMPONENT}"}
            if field.allow_none:
                return {**nullable(schema), **({"description": description} if description else {})}
            return {"allOf": [schema], "description": description} if description else schema
        if not isinstance(field, Either):
            return {}
        alternatives = []
        for alternative in field.alternatives:
            if isinstance(alternative, ma.fields.Field):
                schema = self.field2property(alternative)
            else:
                schema = self.resolve_nested_schema(alternative)
            alternatives.append(nullable(schema) if field.allow_none else schema)
        return {"anyOf": alternatives}


class MarshmallowPlugin(apispec_marshmallow.MarshmallowPlugin):
    """apispec's marshmallow plugin with the Converter above: the Api gives it to flask-smorest."""

    Converter = Converter
