"""From HTML forms to the services' inputs, and from values to what a page shows.

Form posts are checked by the API's own marshmallow schemas (one copy of every input rule): this module
only turns the form's text into the JSON-like values those schemas take, and their errors back into
messages beside the fields.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from ..domain import texting
from ..domain.parameters import Parameter
from ..domain.therapies import REGISTRY
from ..exports import wording


class FormProblems(Exception):
    """The form's fields that are not acceptable, by field name, with the reason in words."""

    def __init__(self, errors: dict[str, str], message: str = "Some fields need your attention."):
        super().__init__(message)
        self.errors, self.message = errors, message


def load(schema: Schema, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise FormProblems(flatten(exc.messages)) from exc


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"baseline.pain": "Must be ..."}."""
    if isinstance(messages, dict):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": " ".join(messages)}
        flat = {}
        for item in messages:
            flat.update(flatten(item, prefix))
        return flat
    return {prefix or "_schema": str(messages)}


def text(form: MultiDict, name: str) -> str | None:
    """A text field's value, or None when left empty (the schema then says whether it was required)."""
    value = (form.get(name) or "").strip()
    return value or None


def figure(form: MultiDict, name: str) -> Any:
    """A number typed into a field: int or float when it reads as one, else the text itself, so that the
    schema names the field ("Not a valid number.") instead of this module guessing."""
    value = text(form, name)
    if value is None:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "," not in value else number


def local_moment(form: MultiDict, name: str, zone_name: str | None) -> str | None:
    """An <input type="datetime-local"> value, read in the trial's timezone, as an aware ISO 8601 string."""
    value = text(form, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema names the field
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone_name or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))  # the timezone field's own error is shown
    return moment.isoformat()


def without_empty(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None and v != {} and v != []}


# --- protocol parameters beside the form ---------------------------------------------------------------

def therapy_parameters() -> dict[str, Parameter]:
    """Every protocol parameter of every therapy in the registry (each therapy validates its own)."""
    return {name: parameter for row in REGISTRY.values() for name, parameter in row.parameters.items()}


def parameter_fields(therapy: str) -> list[dict[str, Any]]:
    """What the trial form shows for each protocol parameter of `therapy` (from the registry): label, kind of input,
    and the therapy's default."""
    row = REGISTRY[therapy]
    fields = []
    for name, parameter in row.parameters.items():
        kind = "bool" if parameter.kind is bool else "choice" if parameter.kind is str else "number"
        fields.append({
            "name": name, "label": wording.parameter_label(name), "kind": kind, "choices": parameter.choices,
            "low": parameter.low, "high": parameter.high, "step": "1" if parameter.kind is int else "any",
            "default": wording.parameter_value(row.defaults[name]) if name in row.defaults else "by agent",
        })
    return fields


def protocol_overrides(form: MultiDict) -> dict[str, Any]:
    """The override fields that were filled in; an empty one keeps the therapy's default."""
    overrides: dict[str, Any] = {}
    for name, parameter in therapy_parameters().items():
        raw = text(form, f"protocol.{name}")
        if raw is None:
            continue
        if parameter.kind is bool:
            overrides[name] = {"yes": True, "no": False}.get(raw, raw)
        elif parameter.kind is str:
            overrides[name] = raw
        else:
            overrides[name] = figure(form, f"protocol.{name}")
    return overrides


def care_team(form: MultiDict) -> list[Any]:
    ids = []
    for raw in form.getlist("care_team"):
        try:
            ids.append(int(raw))
        except ValueError:
            ids.append(raw)  # the schema says "Not a valid integer."
    return ids


# --- template filters ------------------------------------------------------------------------------------

def when(moment: datetime | None, zone_name: str | None = None) -> str:
    """A moment in the trial's (or UTC) timezone, as the ward reads it."""
    if moment is None:
        return "-"
    zone = ZoneInfo(zone_name) if zone_name else ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return local.strftime("%d %b %Y %H:%M ") + (local.tzname() or "")


def delivery(notification, zone_name: str, moment: datetime) -> str:
    """How far a notification got, in the words of the trial page. A final result held by the grace period of a
    trial registered after its end (services/notifications.py final_evaluation_stored) says until when: "held
    until 10:42 CST for the diary to sync"; one the receiver did not accept yet says when it is tried again:
    "not accepted yet; next try 10:42 CST". The day is named when it is not today's."""
    waiting = notification.state == "pending" and notification.next_attempt_at > moment
    if waiting and notification.attempts > 0:
        return f"not accepted yet; next try {_clock(notification.next_attempt_at, zone_name, moment)}"
    if waiting and notification.cause == "evaluation" and notification.dispatched_at is None:
        return f"held until {_clock(notification.next_attempt_at, zone_name, moment)} for the diary to sync"
    return wording.DELIVERY_WORDS.get(notification.state, notification.state)


def _clock(at: datetime, zone_name: str, moment: datetime) -> str:
    """"10:42 CST" today (in the zone), else the day and time."""
    zone = ZoneInfo(zone_name)
    local = at.astimezone(zone)
    if local.date() == moment.astimezone(zone).date():
        return local.strftime("%H:%M ") + (local.tzname() or "")
    return when(local, zone_name)


def input_moment(moment: datetime | None, zone_name: str) -> str:
    """The value of a datetime-local input: the moment in the trial's timezone, to the minute."""
    return moment.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def phone(e164: str | None) -> str:
    """A stored number as staff dial it."""
    return texting.readable(e164)


def texting_summary(patient) -> str:
    """Whether texts may go to the patient, and why not, in a line."""
    if not patient.mobile_number:
        return "no mobile number"
    if patient.sms_opted_out_at is not None:
        return f"{phone(patient.mobile_number)}: the patient texted STOP on {when(patient.sms_opted_out_at)}"
    if patient.sms_consent_at is None:
        return f"{phone(patient.mobile_number)}: no consent to texts recorded"
    source = {"staff": "recorded by staff", "patient": "given by the patient in the app",
              "diary": "given by the patient on the diary page", "keyword": "texted START"}
    return (f"{phone(patient.mobile_number)}: consent {source.get(patient.sms_consent_source, '')} on "
            f"{when(patient.sms_consent_at)}")


def texting_values(patient) -> dict[str, Any]:
    """The texting form's fields as stored."""
    return {"mobile_number": phone(patient.mobile_number), "sms_consent": patient.sms_consent,
            "sms_block_night_consent": patient.sms_block_night_consent}


def texting_form(form: MultiDict) -> dict[str, Any]:
    """The texting fields of a form as the schema takes them: an empty number removes it, a box is true or false."""
    return {"mobile_number": text(form, "mobile_number"), "sms_consent": form.get("sms_consent") == "yes",
            "sms_block_night_consent": form.get("sms_block_night_consent") == "yes"}


def fraction(value: Any) -> str:
    """A fraction (compliance 0.85) as a percentage."""
    return "-" if value is None else f"{wording.number(value * 100, 0)} %"


def percent(value: Any) -> str:
    """A figure that already is a percentage (pain relief 57.5)."""
    return "-" if value is None else f"{wording.number(value)} %"


def entry_details(content: dict[str, Any]) -> str:
    """One line of what an entry holds besides the pain score, for the diary table."""
    parts = []
    function = content.get("function") or {}
    if function.get("odi") is not None:
        parts.append(f"ODI {wording.number(function['odi'])} %")
    if function.get("interference") is not None:
        parts.append(f"interference {wording.number(function['interference'])}/10")
    medications = content.get("medications") or []
    if medications:
        parts.append("medication: " + ", ".join(f"{m['name']} {wording.number(m['dose'])} {m['unit']}"
                                                  for m in medications))
    symptoms = content.get("symptoms") or []
    if symptoms:
        parts.append("symptoms: " + ", ".join(s.replace("_", " ") for s in symptoms))
    if content.get("temperature_c") is not None:
        parts.append(f"temperature {wording.number(content['temperature_c'])} °C")
    if content.get("sedation_score") is not None:
        parts.append(f"sedation {content['sedation_score']}/4")
    if content.get("pgic") is not None:
        parts.append(f"global impression {content['pgic']}/7")
    if content.get("note"):
        parts.append(f"note: {content['note']}")
    return "; ".join(parts) or "-"


@cache
def timezone_choices() -> list[str]:
    """Every IANA zone name the API accepts, for a picker: the Americas first (the clinics are in the US), then the
    rest, each group sorted."""
    zones = sorted(z for z in available_timezones()
                   if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    return [z for z in zones if z.startswith("America/")] + [z for z in zones if not z.startswith("America/")] + ["UTC"]


def plain(value: Any) -> str:
    """A stored value as a form field shows it: 6 rather than 6.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
