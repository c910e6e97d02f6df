"""Strict marshmallow fields shared by the resource schemas: no strings for numbers, no bools for ints, ids and
instants within what PostgreSQL stores, text without NUL or lone surrogates."""

from __future__ import annotations

import math
from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from ..extensions.database import EARLIEST, LATEST, MAX_ID


class Int(fields.Integer):
    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class Num(fields.Float):
    """A JSON number (an int is fine); strings, bools, NaN and infinities are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a valid number.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("Not a finite number.")
        return super()._deserialize(value, attr, data, **kwargs)


class MobileNumber(fields.String):
    """A mobile number as people type it ("(201) 555-0123", "+34 612 34 56 78"), stored in E.164; a number without
    its country code is read in SMS_DEFAULT_REGION."""

    def _deserialize(self, value, attr, data, **kwargs):
        from flask import current_app

        from ..domain.texting import mobile_e164

        typed = super()._deserialize(value, attr, data, **kwargs)
        if len(typed) > 40:
            raise ValidationError("Not a mobile phone number: too long.")
        try:
            return mobile_e164(typed, default_region=current_app.config["SMS_DEFAULT_REGION"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class PhoneNumber(fields.String):
    """The clinic's phone (any kind of line), stored in E.164."""

    def _deserialize(self, value, attr, data, **kwargs):
        import phonenumbers
        from flask import current_app

        typed = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = phonenumbers.parse(typed[:40], current_app.config["SMS_DEFAULT_REGION"])
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError("Not a phone number. Give it with its country code, such as +1 201 555 0123.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Bool(fields.Boolean):
    """true or false: not "yes", 1 or "on"."""

    def __init__(self, **kwargs):
        super().__init__(truthy={True}, falsy={False}, **kwargs)


class Timezone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            if name not in _zones():
                raise ZoneInfoNotFoundError(name)
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("Not an IANA timezone, such as America/New_York.") from exc
        return name


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def between(low, high):
    return validate.Range(min=low, max=high)


def text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


# --- bounds that PostgreSQL's columns and the calendar impose --------------------------------------------------



class Id(Int):
    """A row id in a JSON body: a whole number from 1 to 2^31 - 1."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class QueryId(fields.Integer):
    """A row id in a query string (text, so not strict): from 1 to 2^31 - 1."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Moment(fields.AwareDateTime):
    """An instant with its UTC offset, between 2000-01-01 and 2100-01-01 UTC.

    Year 1 with an offset of +14:00 is before year 1 in UTC, and year 9999 at -14:00 is after year 9999: neither
    can be stored or compared, and nothing a diary records lies outside this range.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_range = EARLIEST <= moment.astimezone(UTC) < LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            raise ValidationError("Must lie between 2000-01-01 and 2100-01-01 (UTC).")
        return moment


class ValidatedByView(fields.Raw):
    """A JSON value the view validates itself, item by item, with `schema` (a batch's entries: one bad entry never
    sinks the others); the OpenAPI document describes it as that schema."""

    def __init__(self, schema, **kwargs):
        super().__init__(**kwargs)
        self.documented_schema = schema


class ValidatedItemByItem(ValidatedByView):
    """An item of a list the view validates one by one: null too is the view's to refuse, as that item alone (the
    document does not call it nullable: it is refused)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        return None if value is None else super().deserialize(value, attr, data, **kwargs)


def documented_as_its_schema(converter, field, ret, **_) -> dict:
    """apispec attribute function: a ValidatedByView field is documented as its schema (beside a description, in
    an allOf: OpenAPI 3.0 ignores what stands beside a $ref)."""
    if not isinstance(field, ValidatedByView):
        return {}
    schema = converter.resolve_nested_schema(field.documented_schema)
    return {"allOf": [schema]} if "description" in ret else schema


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: one spelling per id, as the API writes it (ASCII digits, no leading zero), from 1 to
    2^31 - 1; anything else ("00001", an Arabic-Indic or full-width digit, an id above PostgreSQL's integer)
    matches no route (404), exactly as a missing row."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's argument name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# --- text PostgreSQL can store ---------------------------------------------------------------------------------

UNSTORABLE_TEXT = "Text may not contain NUL characters or unpaired surrogates."


def unstorable_text(data) -> dict[str, list[str]]:
    """The top-level fields of a parsed JSON document or query whose text (keys or values, at any depth) holds a
    NUL or a lone surrogate: PostgreSQL's text and jsonb cannot store either. Iterative: depth cannot overflow."""
    problems: dict[str, list[str]] = {}
    items = data.items() if hasattr(data, "items") else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        stack = [key, value]
        while stack:
            current = stack.pop()
            if isinstance(current, str):
                if "\x00" in current or not _encodable(current):
                    problems[str(key) if _encodable(str(key)) else "_schema"] = [UNSTORABLE_TEXT]
                    break
            elif isinstance(current, dict):
                stack.extend(current.keys())
                stack.extend(current.values())
            elif isinstance(current, list | tuple):
                stack.extend(current)
    return problems


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
