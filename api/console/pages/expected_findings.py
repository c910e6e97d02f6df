"""A trial's expected findings on its page: add one, end one early (docs/clinical-rules.md §3)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from ...errors import Invalid
from ...exports import wording
from ...resources.alerts.schemas import ExpectedFindingIn
from ...services import expected_findings
from ...services.access import CARE, Actor, trial_for
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems

FIELD_WORDS = {"rule": "What is expected", "until": "Until", "reason": "Reason"}


def _back(trial_id: int):
    return redirect(url_for("console.trial", trial_id=trial_id, _anchor="expected-findings"))


@bp.route("/trials/<int:trial_id>/expected-findings", methods=["POST"])
@staff_page(*CARE)
def expected_finding_create(user: Actor, trial_id: int):
    trial = trial_for(user, trial_id, action="expected_finding.create")  # the trial's timezone reads the form
    form = request.form
    payload = present.without_empty({"rule": present.text(form, "rule"), "reason": present.text(form, "reason"),
                                     "until": present.local_moment(form, "until", trial.timezone)})
    try:
        data = present.load(ExpectedFindingIn(), payload)
        made = expected_findings.create_finding(user=user, trial_id=trial_id, **data)
    except FormProblems as problems:
        errors = problems.errors
    except Invalid as exc:
        errors = present.flatten(exc.errors or {})
    else:
        flash(f"Marked as expected: {wording.alert_words(made.rule)}.", "success")
        return _back(trial_id)
    for field, message in errors.items():
        flash(f"{FIELD_WORDS.get(field, field)}: {message}", "error")
    return _back(trial_id)


@bp.route("/trials/<int:trial_id>/expected-findings/<int:finding_id>/end", methods=["POST"])
@staff_page(*CARE)
def expected_finding_end(user: Actor, trial_id: int, finding_id: int):
    ended = expected_findings.end_finding(user=user, trial_id=trial_id, finding_id=finding_id)
    flash(f"No longer expected: {wording.alert_words(ended.rule)}.", "success")
    return _back(trial_id)
