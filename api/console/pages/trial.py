"""A trial's page: criteria, charts, diary, alerts, notifications, the decision, and its downloads."""

from __future__ import annotations

import json
import re

from flask import Response, abort, flash, redirect, render_template, request, url_for

from ...clock import now
from ...domain.safety import COVERABLE_RULES
from ...errors import Forbidden
from ...exports import csv as csv_export
from ...exports import fhir, pdf, wording
from ...exports.charts import trial_charts
from ...extensions import db
from ...models import Trial
from ...models.decision import DECISIONS
from ...resources.decisions.schemas import DecisionIn
from ...services import decisions, texting, users
from ...services.access import CARE, PHYSICIAN, Actor, trial_for
from ...services.diary import replaced_versions_of
from ...services.documentation import readiness_of
from ...services.expected_findings import findings_of
from ...services.exports import trial_record
from ...services.notifications import notifications_of
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems


@bp.route("/trials/<int:trial_id>")
@staff_page(*CARE)
def trial(user: Actor, trial_id: int):
    return _trial_page(user, trial_id)


def _trial_page(user: Actor, trial_id: int, *, values=None, errors=None, message=None, status=200):
    """The page; after a refused decision, with what the physician typed (`values`) kept in the form."""
    record = trial_record(user=user, trial_id=trial_id, action="trial.page")  # checks access, audits the page
    notifications = notifications_of(record.trial.id, limit=50)
    versions = replaced_versions_of(record.trial.id)
    late_entries, timely = wording.diary_timeliness(record.trial.therapy, record.entries)
    findings = findings_of(record.trial.id)
    return render_template("console/trial.html", user=user, record=record, trial=record.trial,
                           notifications=notifications, versions=versions, decider=_decider(user, record),
                           late_entries=late_entries, timely=timely, findings=findings, now=now(),
                           finding_names=users.staff_names(user=user, user_ids={f.created_by for f in findings}),
                           coverable_rules=COVERABLE_RULES,
                           decisions=DECISIONS, values=values or request.args, errors=errors or {},
                           decision_message=message, messages=texting.messages_of(patient=record.patient, limit=20),
                           readiness=readiness_of(record.trial)), status


def _decider(user: Actor, record) -> dict:
    """Who may record the decision, and whether this user may, and if not, why."""
    trial = record.trial
    physicians = [u for u in record.care_team if u.role == PHYSICIAN]
    reason = None
    if record.decision is not None:
        reason = "The decision was recorded; it cannot change."
    elif trial.closure == "cancelled":
        reason = "The trial was cancelled."
    elif not physicians:
        reason = "No physician is on the care team: add one (edit the trial) so that the decision can be recorded."
    elif not decisions.may_decide(user, trial):
        reason = ("Only a physician on the care team records the decision; you can read it here once it is made."
                  if user.role != PHYSICIAN else
                  "You are not on this trial's care team; only its physicians record the decision.")
    elif not getattr(next((u for u in physicians if u.id == user.id), None), "npi", None):
        reason = NO_NPI
    return {"physicians": physicians, "may": reason is None, "reason": reason,
            "running": trial.end_at > now() and trial.closure is None}


NO_NPI = ("Your staff profile has no National Provider Identifier (NPI), and a signed decision must carry it. Ask "
          "your clinic's admin to add it on the console's Staff page; then this form opens here.")


# Opened on its own the charts' SVG is a document: matplotlib's own style element, and nothing else.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@bp.route("/trials/<int:trial_id>/charts.svg")
@staff_page(*CARE)
def charts(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="trial.charts")
    svg = trial_charts(record, image_format="svg")  # the same chart functions as the PDF report
    if b"<script" in svg.lower() or b"javascript:" in svg.lower():  # matplotlib writes none; never serve one
        abort(500)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


@bp.route("/trials/<int:trial_id>/report.pdf")
@staff_page(*CARE)
def report(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="report.read")
    # Inline: the browser's own viewer opens it (and prints it); saved, it is named by the patient's MRN.
    return Response(pdf.render(record), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_file_name(record.patient.mrn, trial_id, "report")}"'})


@bp.route("/trials/<int:trial_id>/signed-report.pdf")
@staff_page(*CARE)
def signed_report(user: Actor, trial_id: int):
    """The report exactly as the physician signed it (the bytes whose SHA-256 the decision records)."""
    signed, sha256 = decisions.signed_report(user=user, trial_id=trial_id)
    mrn = trial_for(user, trial_id, action="trial.read").patient.mrn
    return Response(signed, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(mrn, trial_id, "signed-report")}"',
        "X-Content-SHA256": sha256})


def _file_name(mrn: str, trial_id: int, what: str) -> str:
    """A download's name with the patient's MRN, kept to characters every file system and header take."""
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', mrn).strip('-.') or 'patient'}-trial-{trial_id}-{what}.pdf"


@bp.route("/trials/<int:trial_id>/fhir.json")
@staff_page(*CARE)
def fhir_bundle(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="fhir.export")
    return Response(json.dumps(fhir.bundle(record)), content_type=fhir.CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="trial-{trial_id}-fhir.json"'})


@bp.route("/trials/<int:trial_id>/entries.csv")
@staff_page(*CARE)
def entries_csv(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="entries.export")
    return Response(csv_export.entries_csv(record), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="trial-{trial_id}-entries.csv"'})


@bp.route("/trials/<int:trial_id>/decision", methods=["POST"])
@staff_page(*CARE)
def decide(user: Actor, trial_id: int):
    """Record the decision; refused, the page comes back with the choice and the rationale as typed, never lost."""
    form = request.form
    payload = present.without_empty({"decision": present.text(form, "decision"),
                                     "rationale": present.text(form, "rationale")})
    try:
        data = present.load(DecisionIn(), payload)
    except FormProblems as problems:
        # Who may decide is answered first, as for a complete form: a nurse is refused whatever she typed.
        if not decisions.may_decide(user, trial_for(user, trial_id, action="decision.create")):
            raise Forbidden(decisions.ONLY_CARE_TEAM_PHYSICIANS) from None
        return _trial_page(user, trial_id, values=form, errors=problems.errors, status=422,
                           message="Not recorded: see the field marked below.")
    try:
        recorded = decisions.record_decision(user=user, trial_id=trial_id, **data)
    except decisions.NpiMissing:
        return _trial_page(user, trial_id, values=form, status=409, message=f"Not recorded. {NO_NPI} What you "
                           "typed is kept below.")
    therapy = db.session.get(Trial, trial_id).therapy
    flash(f"Decision recorded: {wording.decision_words(recorded.decision, therapy)}.", "success")
    return redirect(url_for("console.trial", trial_id=trial_id, _anchor="decision"))
