"""The console's pages: thin views over the services, each answering with a template or a redirect."""

from __future__ import annotations

import json
import logging
from functools import wraps
from urllib.parse import urlsplit

import segno
from flask import Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from ..domain.blocks import AGENTS, REGIONS, SIDES
from ..errors import Conflict, DomainError, Forbidden, Invalid, Unauthorized
from ..exports import csv as csv_export
from ..exports import fhir, pdf, wording
from ..exports.charts import block_chart, diary_charts
from ..extensions import db
from ..models.clinic import STAFF_ROLES
from ..models.decision import DECISIONS
from ..resources.alerts.schemas import AcknowledgeIn
from ..resources.auth.routes import SIGN_IN_LIMITS
from ..resources.decisions.schemas import DecisionIn
from ..resources.patients.schemas import PatientIn
from ..resources.trials.schemas import TrialIn, TrialPatchIn
from ..resources.users.schemas import UserIn
from ..resources.webhooks.schemas import WebhookIn
from ..services import alerts as alert_service
from ..services import auth, decisions, monitoring, patients, trials, users, webhooks
from ..services.access import ADMIN, CARE, PHYSICIAN, Actor, console_actor, patient_for, trial_for
from ..services.diary import replaced_versions_of
from ..services.exports import trial_record
from ..services.notifications import notifications_of
from . import CONTENT_SECURITY_POLICY, bp, csrf, present
from .present import FormProblems

log = logging.getLogger(__name__)


# --- the guard, CSRF, headers, error pages -----------------------------------------------------------------

def staff_page(*roles: str, active: bool = True):
    """View decorator: the signed-in staff member of a live console session, passed to the view as `user`.

    Signed out (or idle, or past 12 hours, or deactivated): a page redirects to the sign-in page, a background
    refresh answers 401 (its script then goes to the sign-in page). A role not in `roles` gets 403.
    """

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            g.pop("actor", None)
            session_id = session.get("sid")
            user = console_actor(session_id, active=active) if session_id else None
            if user is None:
                if session_id:
                    session.pop("sid", None)
                    flash("You were signed out. Please sign in again.", "info")
                if not active:
                    return Response("Signed out.", status=401, mimetype="text/plain")
                wanted = request.full_path if request.method == "GET" else None
                return redirect(url_for("console.sign_in", next=wanted))
            if user.role not in roles:
                raise Forbidden("Your role does not open this page.")
            return view(user, *args, **kwargs)

        return guarded

    return decorate


@bp.before_request
def _check_csrf():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"  # pages and downloads carry patient data
    return response


def _error_page(status: int, title: str, message: str):
    db.session.rollback()
    return render_template("console/error.html", status=status, title=title, message=message), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    titles = {401: "Signed out", 403: "Not allowed", 404: "Not found", 409: "Not possible now",
              422: "Not accepted"}
    message = "There is no such page, or it belongs to another clinic." if exc.status == 404 else exc.message
    return _error_page(exc.status, titles.get(exc.status, "Something went wrong"), message)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _error_page(400, "The form has expired",
                       "The form was not sent from this console page, or it was open too long. Go back, reload "
                       "the page and send it again.")


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded):
    return _error_page(429, "Too many attempts", "Too many failed sign-ins. Wait a few minutes and try again.")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 404:
        return _error_page(404, "Not found", "There is no such page, or it belongs to another clinic.")
    return _error_page(exc.code or 500, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("console: unhandled error")
    return _error_page(500, "Something went wrong", "Something went wrong on our side. Try again in a moment.")


@bp.route("/<path:anything>")
def _unknown(anything):
    abort(404)


@bp.app_template_filter("when")
def _when(moment, zone=None):
    return present.when(moment, zone)


@bp.app_context_processor
def _words():
    return {"words": wording, "present": present, "refresh_seconds": current_app.config["CONSOLE_REFRESH_SECONDS"],
            "attestation": decisions.ATTESTATION}


# --- sign in and out ---------------------------------------------------------------------------------------

def _limited(view):
    """The API's sign-in limits, on the same counters: a guesser gets one allowance, not one per door."""
    for limit in reversed(SIGN_IN_LIMITS):
        view = limit(view)
    return view


@bp.route("/sign-in", methods=["GET"])
def sign_in():
    return render_template("console/sign_in.html", next=_safe_next(request.args.get("next")))


@bp.route("/sign-in", methods=["POST"])
@_limited
def sign_in_post():
    email, password = request.form.get("email", ""), request.form.get("password", "")
    wanted = _safe_next(request.form.get("next"))
    try:
        session_id = auth.open_console_session(email=email, password=password)
    except auth.PatientAccount as exc:
        return render_template("console/sign_in.html", error=exc.message, email=email, next=wanted,
                               patient=True), 403
    except Unauthorized as exc:
        return render_template("console/sign_in.html", error=exc.message, email=email, next=wanted), 401
    session.clear()  # a new cookie for the new sign-in, and a new CSRF secret with it
    session["sid"] = session_id
    return redirect(wanted or url_for("console.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    if session_id := session.get("sid"):
        auth.logout(session_id=session_id)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("console.sign_in"))


def _safe_next(target: str | None) -> str | None:
    """Only a console path of this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or target.startswith("//"):
        return None
    return target.rstrip("?")


# --- worklist and alerts --------------------------------------------------------------------------------------

@bp.route("/")
@staff_page(*STAFF_ROLES)
def home(user: Actor):
    if user.role == ADMIN:
        return redirect(url_for("console.staff"))
    return render_template("console/worklist.html", user=user, rows=monitoring.worklist(user=user))


@bp.route("/live/worklist")
@staff_page(*CARE, active=False)
def worklist_fragment(user: Actor):
    return render_template("console/_worklist_rows.html", rows=monitoring.worklist(user=user))


def _alert_board(user: Actor) -> dict:
    open_alerts = alert_service.list_alerts(user=user, status="open")
    done = alert_service.list_alerts(user=user, status="acknowledged", limit=50)
    trial_ids = {a.trial_id for a in open_alerts + done}
    labels = trials.trial_labels(user=user, trial_ids=trial_ids)
    names = users.staff_names(user=user, user_ids={a.acknowledged_by for a in done})
    return {"open_alerts": open_alerts, "acknowledged": done, "labels": labels, "names": names}


@bp.route("/alerts")
@staff_page(*CARE)
def alerts(user: Actor):
    return render_template("console/alerts.html", user=user, **_alert_board(user))


@bp.route("/live/alerts")
@staff_page(*CARE, active=False)
def alerts_fragment(user: Actor):
    return render_template("console/_alerts_open.html", **_alert_board(user))


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@staff_page(*CARE)
def acknowledge(user: Actor, alert_id: int):
    try:
        data = present.load(AcknowledgeIn(), present.without_empty({"note": present.text(request.form, "note")}))
    except FormProblems as problems:
        flash(f"Not acknowledged: {' '.join(problems.errors.values())}", "error")
        return redirect(_back(url_for("console.alerts")))
    alert = alert_service.acknowledge(user=user, alert_id=alert_id, note=data.get("note"))
    flash(f"Acknowledged: {wording.alert_words(alert.rule)}.", "success")
    return redirect(_back(url_for("console.alerts")))


def _back(default: str) -> str:
    return _safe_next(request.form.get("back")) or default


# --- the trial --------------------------------------------------------------------------------------------------

@bp.route("/trials/<int:trial_id>")
@staff_page(*CARE)
def trial(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="trial.page")  # checks access, audits the page
    notifications = notifications_of(record.trial.id, limit=50)
    versions = replaced_versions_of(record.trial.id)
    return render_template("console/trial.html", user=user, record=record, trial=record.trial,
                           notifications=notifications, versions=versions, decider=_decider(user, record),
                           decisions=DECISIONS, values=request.args)


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
    return {"physicians": physicians, "may": reason is None, "reason": reason}


# Opened on its own the charts' SVG is a document: matplotlib's own style element, and nothing else.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@bp.route("/trials/<int:trial_id>/charts.svg")
@staff_page(*CARE)
def charts(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="trial.charts")
    draw = block_chart if record.trial.is_block else diary_charts  # the same chart functions as the PDF report
    svg = draw(record, image_format="svg")
    if b"<script" in svg.lower() or b"javascript:" in svg.lower():  # matplotlib writes none; never serve one
        abort(500)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


@bp.route("/trials/<int:trial_id>/report.pdf")
@staff_page(*CARE)
def report(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="report.read")
    return Response(pdf.render(record), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="trial-{trial_id}-report.pdf"'})


@bp.route("/trials/<int:trial_id>/fhir.json")
@staff_page(*CARE)
def fhir_bundle(user: Actor, trial_id: int):
    record = trial_record(user=user, trial_id=trial_id, action="fhir.export")
    return Response(json.dumps(fhir.bundle(record)), mimetype="application/fhir+json",
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
    payload = present.without_empty({"decision": present.text(request.form, "decision"),
                                     "rationale": present.text(request.form, "rationale")})
    try:
        data = present.load(DecisionIn(), payload)
    except FormProblems as problems:
        # Who may decide is answered first, as for a complete form: a nurse is refused whatever she typed.
        if not decisions.may_decide(user, trial_for(user, trial_id, action="decision.create")):
            raise Forbidden(decisions.ONLY_CARE_TEAM_PHYSICIANS) from None
        for field, message in problems.errors.items():
            flash(f"{'Decision' if field == 'decision' else 'Rationale'}: {message}", "error")
        return redirect(url_for("console.trial", trial_id=trial_id, _anchor="decision"))
    recorded = decisions.record_decision(user=user, trial_id=trial_id, **data)
    flash(f"Decision recorded: {wording.DECISION_WORDS[recorded.decision]}.", "success")
    return redirect(url_for("console.trial", trial_id=trial_id, _anchor="decision"))


# --- new trial, edit trial --------------------------------------------------------------------------------------

def _trial_form(user: Actor, *, values, errors=None, status=200, message=None, patient_id=None):
    staff = users.care_staff(user=user)
    chosen = [int(v) for v in values.getlist("care_team") if v.isdigit()] if values else [user.id]
    return render_template(
        "console/trial_new.html", user=user, values=values, errors=errors or {}, message=message,
        patients=patients.list_patients(staff=user), patient_id=patient_id, staff=staff, chosen=chosen,
        therapies=list(wording.THERAPY_NAMES.items()), parameters=present.parameter_fields(),
        regions=REGIONS, sides=SIDES, agents=AGENTS,
        no_physician=not any(u.role == PHYSICIAN and u.id in chosen for u in staff),
    ), status


@bp.route("/trials/new", methods=["GET"])
@staff_page(*CARE)
def trial_new(user: Actor):
    return _trial_form(user, values=None, patient_id=request.args.get("patient_id", type=int))


@bp.route("/trials/new", methods=["POST"])
@staff_page(*CARE)
def trial_create(user: Actor):
    form = request.form
    zone = present.text(form, "timezone")
    payload = present.without_empty({
        "patient_id": present.figure(form, "patient_id"), "therapy": present.text(form, "therapy"),
        "device": present.text(form, "device"), "timezone": zone,
        "start_at": present.local_moment(form, "start_at", zone or _patient_zone(user, form)),
        "end_at": present.local_moment(form, "end_at", zone or _patient_zone(user, form)),
        "baseline": present.without_empty({k: present.figure(form, f"baseline.{k}")
                                           for k in ("pain", "mme", "odi", "interference")}),
        "protocol": present.protocol_overrides(form), "care_team": present.care_team(form),
        # A diagnostic block's target and agent (the API refuses them for other therapies, and requires them there).
        "target": present.without_empty({
            "region": present.text(form, "target.region"), "side": present.text(form, "target.side"),
            "levels": [level.strip() for level in (present.text(form, "target.levels") or "").split(",")
                       if level.strip()]}),
        "agent": present.text(form, "agent"),
    })
    payload.setdefault("baseline", {})
    try:
        data = present.load(TrialIn(), payload)
        created = trials.create_trial(staff=user, **data)
    except FormProblems as problems:
        return _trial_form(user, values=form, errors=problems.errors, status=422, message=problems.message)
    except Invalid as exc:
        return _trial_form(user, values=form, errors=present.flatten(exc.errors or {}), status=422,
                           message=exc.message)
    flash("Trial created.", "success")
    return redirect(url_for("console.trial", trial_id=created.id))


def _patient_zone(user: Actor, form) -> str | None:
    patient_id = present.figure(form, "patient_id")
    return trials.patient_timezone(user=user, patient_id=patient_id) if isinstance(patient_id, int) else None


@bp.route("/trials/<int:trial_id>/edit", methods=["GET"])
@staff_page(*CARE)
def trial_edit(user: Actor, trial_id: int):
    return _edit_page(user, trial_for(user, trial_id, action="trial.read"))


def _edit_page(user: Actor, trial, *, errors=None, status=200, values=None):
    staff = users.care_staff(user=user)
    chosen = trial.care_team if values is None else [int(v) for v in values.getlist("care_team") if v.isdigit()]
    return render_template(
        "console/trial_edit.html", user=user, trial=trial, staff=staff, chosen=chosen, errors=errors or {},
        values=values, no_physician=not any(u.role == PHYSICIAN and u.id in trial.care_team for u in staff),
    ), status


@bp.route("/trials/<int:trial_id>/edit", methods=["POST"])
@staff_page(*CARE)
def trial_update(user: Actor, trial_id: int):
    trial = trial_for(user, trial_id, action="trial.update", lock=True)
    change = request.form.get("change")
    if change == "end":
        payload = {"end_at": present.local_moment(request.form, "end_at", trial.timezone)}
    elif change == "care_team":
        payload = {"care_team": present.care_team(request.form)}
    elif change == "cancel":
        if request.form.get("confirm") != "yes":
            return _edit_page(user, trial, errors={"confirm": "Tick the box to confirm the cancellation."},
                              status=422)
        payload = {"status": "cancelled"}
    else:
        return _edit_page(user, trial, errors={"change": "Choose what to change."}, status=422)
    try:
        data = present.load(TrialPatchIn(), present.without_empty(payload))
        trials.update_trial(trial=trial, staff=user, end_at=data.get("end_at"),
                            cancel=data.get("status") == "cancelled", care_team=data.get("care_team"))
    except FormProblems as problems:
        return _edit_page(user, trial, errors=problems.errors, status=422, values=request.form)
    except Invalid as exc:
        trial = trial_for(user, trial_id, action="trial.update")
        return _edit_page(user, trial, errors=present.flatten(exc.errors or {}), status=422, values=request.form)
    flash({"end": "End date moved.", "care_team": "Care team changed.", "cancel": "Trial cancelled."}[change],
          "success")
    return redirect(url_for("console.trial", trial_id=trial_id))


# --- patients -----------------------------------------------------------------------------------------------------

@bp.route("/patients")
@staff_page(*CARE)
def patient_list(user: Actor):
    return render_template("console/patients.html", user=user, patients=patients.list_patients(staff=user))


@bp.route("/patients/new", methods=["GET"])
@staff_page(*CARE)
def patient_new(user: Actor):
    return render_template("console/patient_new.html", user=user, values={}, errors={})


@bp.route("/patients/new", methods=["POST"])
@staff_page(*CARE)
def patient_create(user: Actor):
    form = request.form
    payload = present.without_empty({name: present.text(form, name)
                                     for name in ("display_name", "mrn", "date_of_birth", "email", "timezone")})
    try:
        created = patients.create_patient(staff=user, **present.load(PatientIn(), payload))
    except FormProblems as problems:
        return render_template("console/patient_new.html", user=user, values=form, errors=problems.errors,
                               message=problems.message), 422
    except Conflict as exc:
        return render_template("console/patient_new.html", user=user, values=form,
                               errors=present.flatten(exc.errors or {}), message=exc.message), 409
    return _code_page(user, created, status=201)


@bp.route("/patients/<int:patient_id>")
@staff_page(*CARE)
def patient(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="patient.read")
    return render_template("console/patient.html", user=user, patient=found,
                           trials=trials.list_trials(user=user, patient_id=found.id))


@bp.route("/patients/<int:patient_id>/code", methods=["POST"])
@staff_page(*CARE)
def patient_code(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="patient.enrollment_code")
    return _code_page(user, patients.reissue_enrollment_code(staff=user, patient=found), status=201)


def _code_page(user: Actor, created, *, status: int):
    """The enrollment code, shown once: as text to read out and as a QR code for the phone's camera."""
    qr = segno.make(created.enrollment_code, error="m")
    # segno writes the SVG from the code alone (our own alphabet), with no script and no style element.
    svg = Markup(qr.svg_inline(scale=6, border=2, dark="#000", light="#fff", title="Enrollment code as a QR code"))
    return render_template("console/enrollment_code.html", user=user, patient=created.patient,
                           code=created.enrollment_code, expires_at=created.enrollment_code_expires_at,
                           qr_svg=svg), status


# --- admin: staff and webhooks ---------------------------------------------------------------------------------

@bp.route("/admin/staff", methods=["GET"])
@staff_page(ADMIN)
def staff(user: Actor):
    return _staff_page(user)


def _staff_page(user: Actor, *, values=None, errors=None, message=None, status=200):
    return render_template("console/staff.html", user=user, staff=users.list_staff(admin=user), roles=STAFF_ROLES,
                           values=values or {}, errors=errors or {}, message=message), status


@bp.route("/admin/staff", methods=["POST"])
@staff_page(ADMIN)
def staff_create(user: Actor):
    form = request.form
    payload = present.without_empty({"email": present.text(form, "email"), "role": present.text(form, "role"),
                                     "display_name": present.text(form, "display_name"),
                                     "password": form.get("password") or None})
    try:
        created = users.create_staff_user(clinic_id=user.clinic_id, **present.load(UserIn(), payload))
    except FormProblems as problems:
        return _staff_page(user, values=form, errors=problems.errors, message=problems.message, status=422)
    except Conflict as exc:
        return _staff_page(user, values=form, errors=present.flatten(exc.errors or {}), message=exc.message,
                           status=409)
    flash(f"Account created for {created.email}.", "success")
    return redirect(url_for("console.staff"))


@bp.route("/admin/staff/<int:user_id>/deactivate", methods=["POST"])
@staff_page(ADMIN)
def staff_deactivate(user: Actor, user_id: int):
    try:
        gone = users.deactivate_staff_user(admin=user, user_id=user_id)
    except Invalid as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.staff"))
    flash(f"{gone.email} is deactivated and signed out everywhere.", "success")
    return redirect(url_for("console.staff"))


@bp.route("/admin/webhooks", methods=["GET"])
@staff_page(ADMIN)
def webhook_list(user: Actor):
    return _webhooks_page(user)


def _webhooks_page(user: Actor, *, values=None, errors=None, message=None, created=None, status=200):
    return render_template("console/webhooks.html", user=user, hooks=webhooks.list_webhooks(admin=user),
                           values=values or {}, errors=errors or {}, message=message, created=created), status


@bp.route("/admin/webhooks", methods=["POST"])
@staff_page(ADMIN)
def webhook_create(user: Actor):
    form = request.form
    payload = present.without_empty({"url": present.text(form, "url"),
                                     "description": present.text(form, "description")})
    try:
        data = present.load(WebhookIn(), payload)
        hook = webhooks.register_webhook(admin=user, url=data["url"], description=data.get("description"))
    except FormProblems as problems:
        return _webhooks_page(user, values=form, errors=problems.errors, message=problems.message, status=422)
    except Invalid as exc:
        return _webhooks_page(user, values=form, errors=present.flatten(exc.errors or {}), message=exc.message,
                              status=422)
    return _webhooks_page(user, created=hook, status=201)  # the secret is shown in this answer only


@bp.route("/admin/webhooks/<int:webhook_id>/remove", methods=["POST"])
@staff_page(ADMIN)
def webhook_remove(user: Actor, webhook_id: int):
    hook = webhooks.deactivate_webhook(admin=user, webhook_id=webhook_id)
    flash(f"Webhook {hook.url} removed: nothing more is sent to it.", "success")
    return redirect(url_for("console.webhook_list"))

