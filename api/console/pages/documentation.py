"""A trial's pre-trial documentation (what a payer asks for before an implant), read and edited in the console with the
API's own schema and service (api/resources/documentation, api/services/documentation.py), beside its readiness
checklist.

The lists (diagnosis codes, procedure codes, conservative treatments, imaging) are rows of fields named
`group.N.field`; a row left empty is not sent, and two spare rows are always offered."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...domain.documentation import DURATION_UNITS, MODALITIES, SCREENING_RESULTS
from ...errors import TrialClosed
from ...resources.documentation.schemas import DocumentationIn
from ...services import documentation
from ...services.access import CARE, Actor, trial_for
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems

# Each list of the document: its fields, in the order the form shows them.
ROWS = {
    "indications": ("code", "description"),
    "procedures": ("code", "description"),
    "conservative_treatments": ("treatment", "duration", "unit"),
    "imaging": ("date", "modality", "region"),
}
SPARE_ROWS = 2
NUMBERS = {"duration"}
_ROW_FIELD = re.compile(r"^(\w+)\.(\d+)\.(\w+)$")


def form_values(content: dict[str, Any]) -> MultiDict:
    """The stored document as the form's fields."""
    values: MultiDict = MultiDict()
    for group, names in ROWS.items():
        for index, row in enumerate(content.get(group) or []):
            for name in names:
                if row.get(name) is not None:
                    values[f"{group}.{index}.{name}"] = present.plain(row[name])
    for part, names in (("psychological_evaluation", ("date", "clinician", "cleared")),
                        ("substance_use_screening", ("date", "result"))):
        for name, value in (content.get(part) or {}).items():
            if name in names:
                values[f"{part}.{name}"] = {True: "yes", False: "no"}.get(value, value) if name == "cleared" else value
    if content.get("life_expectancy_months") is not None:
        values["life_expectancy_months"] = present.plain(content["life_expectancy_months"])
    return values


def row_count(values: MultiDict, group: str) -> int:
    """Rows to show: the filled ones (by their highest index) and spare ones."""
    indexes = [int(m.group(2)) for key in values.keys() if (m := _ROW_FIELD.match(key)) and m.group(1) == group]
    return (max(indexes) + 1 if indexes else 0) + SPARE_ROWS


def payload_of(form: MultiDict) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The document the schema takes, and for each list the form's row index of each item sent (for the errors)."""
    payload: dict[str, Any] = {}
    kept: dict[str, list[int]] = {}
    for group, names in ROWS.items():
        items, kept[group] = [], []
        for index in range(row_count(form, group)):
            row = present.without_empty({name: (present.figure if name in NUMBERS else present.text)(
                form, f"{group}.{index}.{name}") for name in names})
            if row:
                items.append(row)
                kept[group].append(index)
        payload[group] = items
    psychological = present.without_empty({"date": present.text(form, "psychological_evaluation.date"),
                                           "clinician": present.text(form, "psychological_evaluation.clinician"),
                                           "cleared": present.text(form, "psychological_evaluation.cleared")})
    if "cleared" in psychological:
        psychological["cleared"] = {"yes": True, "no": False}.get(psychological["cleared"], psychological["cleared"])
    payload["psychological_evaluation"] = psychological or None
    screening = present.without_empty({"date": present.text(form, "substance_use_screening.date"),
                                       "result": present.text(form, "substance_use_screening.result")})
    payload["substance_use_screening"] = screening or None
    payload["life_expectancy_months"] = present.figure(form, "life_expectancy_months")
    return payload, kept


def form_errors(errors: dict[str, str], kept: dict[str, list[int]]) -> dict[str, str]:
    """The schema's errors named as the form's fields ("imaging.1.date" is the second item sent, maybe row 3)."""
    named = {}
    for key, message in errors.items():
        match = _ROW_FIELD.match(key)
        if match and match.group(1) in kept and int(match.group(2)) < len(kept[match.group(1)]):
            key = f"{match.group(1)}.{kept[match.group(1)][int(match.group(2))]}.{match.group(3)}"
        named[key] = message
    return named


def _page(user: Actor, trial, *, values, errors=None, message=None, status=200):
    stored = documentation.documentation_of(trial.id)
    return render_template(
        "console/documentation.html", user=user, trial=trial, values=values, errors=errors or {}, message=message,
        rows={group: row_count(values, group) for group in ROWS}, readiness=documentation.readiness_of(trial),
        stored=stored, modalities=MODALITIES, screening_results=SCREENING_RESULTS, units=DURATION_UNITS,
    ), status


@bp.route("/trials/<int:trial_id>/documentation", methods=["GET"])
@staff_page(*CARE)
def trial_documentation(user: Actor, trial_id: int):
    trial = trial_for(user, trial_id, action="documentation.read")
    stored = documentation.documentation_of(trial.id)
    return _page(user, trial, values=form_values(stored.content if stored else {}))


@bp.route("/trials/<int:trial_id>/documentation", methods=["POST"])
@staff_page(*CARE)
def trial_documentation_save(user: Actor, trial_id: int):
    form = request.form
    payload, kept = payload_of(form)
    try:
        content = present.load(DocumentationIn(), {k: v for k, v in payload.items() if v is not None})
        documentation.put_documentation(user=user, trial_id=trial_id, content=content)
    except FormProblems as problems:
        trial = trial_for(user, trial_id, action="documentation.read")
        return _page(user, trial, values=form, errors=form_errors(problems.errors, kept), status=422,
                     message="Not saved: see the fields marked below. Nothing you typed was lost.")
    except TrialClosed as exc:
        trial = trial_for(user, trial_id, action="documentation.read")
        return _page(user, trial, values=form, message=exc.message, status=409)
    flash("Pre-trial documentation saved.", "success")
    return redirect(url_for("console.trial", trial_id=trial_id, _anchor="readiness"))
