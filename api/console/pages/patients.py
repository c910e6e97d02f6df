"""Patients: the list, registration with the enrollment code (text and QR), a patient's page, a new code."""

from __future__ import annotations

from datetime import datetime

import segno
from flask import flash, redirect, render_template, request, session, url_for
from markupsafe import Markup

from ...clock import now
from ...diary.links import diary_enroll_link
from ...errors import Conflict
from ...resources.patients.schemas import PatientIn, PatientPatchIn, TextingIn
from ...services import patients, sign_in_links, texting, trials
from ...services.access import CARE, Actor, patient_for
from ...services.patients import CONTACT_FIELDS
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems


@bp.route("/patients")
@staff_page(*CARE)
def patient_list(user: Actor):
    """The clinic's patients, searched by name or MRN, each with their trials (decided and cancelled ones too)."""
    search = (request.args.get("q") or "").strip()[:200]
    found = patients.list_patients(staff=user, search=search or None)
    shown = {p.id for p in found}
    their_trials: dict[int, list] = {}
    for t in trials.list_trials(user=user):
        if t.patient_id in shown:
            their_trials.setdefault(t.patient_id, []).append(t)
    return render_template("console/patients.html", user=user, patients=found, search=search,
                           their_trials=their_trials, moment=now())


@bp.route("/patients/new", methods=["GET"])
@staff_page(*CARE)
def patient_new(user: Actor):
    return render_template("console/patient_new.html", user=user, values={}, errors={})


@bp.route("/patients/new", methods=["POST"])
@staff_page(*CARE)
def patient_create(user: Actor):
    form = request.form
    payload = present.without_empty({name: present.text(form, name)
                                     for name in ("display_name", "mrn", "date_of_birth", "gender", "email",
                                                  "timezone", "language")})
    payload.update(present.without_empty(present.texting_form(form)))
    try:
        created = patients.create_patient(staff=user, **_registration(payload))
    except FormProblems as problems:
        return render_template("console/patient_new.html", user=user, values=form, errors=problems.errors,
                               message=problems.message), 422
    except Conflict as exc:
        return render_template("console/patient_new.html", user=user, values=form,
                               errors=present.flatten(exc.errors or {}), message=exc.message), 409
    return _show_code_once(created)


def _registration(payload: dict) -> dict:
    """The form's fields loaded by the API's schema; the sex for the record is asked here, never defaulted (the API's
    `unknown` default is for callers that cannot ask)."""
    missing = {} if "gender" in payload else {"gender": "Choose one; Unknown if the patient did not say."}
    try:
        loaded = present.load(PatientIn(), payload)
    except FormProblems as problems:
        raise FormProblems({**problems.errors, **missing}) from None
    if missing:
        raise FormProblems(missing)
    return loaded


@bp.route("/patients/<int:patient_id>")
@staff_page(*CARE)
def patient(user: Actor, patient_id: int):
    return _patient_page(user, patient_for(user, patient_id, action="patient.read"))


def _patient_page(user: Actor, found, *, values=None, errors=None, message=None, status=200, contact=None,
                  contact_errors=None, contact_message=None):
    contact = contact or {"email": found.email, "language": found.language,
                          "caregiver_name": found.caregiver_name or "",
                          "caregiver_phone": present.phone(found.caregiver_phone)}
    return render_template("console/patient.html", user=user, patient=found, values=values, errors=errors or {},
                           message=message, contact=contact, contact_errors=contact_errors or {},
                           contact_message=contact_message, trials=trials.list_trials(user=user, patient_id=found.id),
                           messages=texting.messages_of(patient=found)), status


@bp.route("/patients/<int:patient_id>/texting", methods=["POST"])
@staff_page(*CARE)
def patient_texting(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="patient.texting")
    try:
        data = present.load(TextingIn(), present.texting_form(request.form))
    except FormProblems as problems:
        return _patient_page(user, found, values=request.form, errors=problems.errors, message=problems.message,
                             status=422)
    texting.update_texting(user=user, patient=found, **data)
    flash("Mobile number and consent saved.", "success")
    return redirect(url_for("console.patient", patient_id=found.id))


@bp.route("/patients/<int:patient_id>/contact", methods=["POST"])
@staff_page(*CARE)
def patient_contact(user: Actor, patient_id: int):
    """Email, language and caregiver, after registration (the mobile number has its own form, with the consent)."""
    found = patient_for(user, patient_id, action="patient.contact")
    form = request.form
    payload = {"caregiver_name": present.text(form, "caregiver_name"),
               "caregiver_phone": present.text(form, "caregiver_phone"),
               **present.without_empty({"email": present.text(form, "email"),
                                        "language": present.text(form, "language")})}
    try:
        data = present.load(PatientPatchIn(only=CONTACT_FIELDS), payload)
        patients.update_patient(staff=user, patient=found, **data)
    except FormProblems as problems:
        return _patient_page(user, found, contact=form, contact_errors=problems.errors, status=422,
                             contact_message="Not saved: see the fields marked below.")
    except Conflict as exc:
        return _patient_page(user, found, contact=form, contact_errors=present.flatten(exc.errors or {}), status=409,
                             contact_message=exc.message)
    flash("Contact details saved.", "success")
    return redirect(url_for("console.patient", patient_id=found.id))


@bp.route("/patients/<int:patient_id>/sign-in-link", methods=["POST"])
@staff_page(*CARE)
def patient_sign_in_link(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="sign_in_link.send")
    try:
        sign_in_links.send_link(staff=user, patient=found)
    except Conflict as exc:
        flash(f"No link sent: {exc.message}", "error")
    else:
        flash("A sign-in link is on its way to the patient's mobile (it works once, for 15 minutes).", "success")
    return redirect(url_for("console.patient", patient_id=found.id))


@bp.route("/patients/<int:patient_id>/code", methods=["POST"])
@staff_page(*CARE)
def patient_code(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="patient.enrollment_code")
    return _show_code_once(patients.reissue_enrollment_code(staff=user, patient=found))


def _show_code_once(created):
    """Post/redirect/get: the new code waits in this browser's signed session cookie (never in a URL, nor a log) for
    the page the browser is sent to, so reloading that page shows the code again and never registers the patient, or
    issues a code, a second time. A later code, or signing out, replaces it."""
    session[CODE_KEY] = {"patient_id": created.patient.id, "code": created.enrollment_code,
                         "expires_at": created.enrollment_code_expires_at.isoformat()}
    return redirect(url_for("console.patient_code_page", patient_id=created.patient.id), 303)


CODE_KEY = "enrollment_code"


@bp.route("/patients/<int:patient_id>/code", methods=["GET"])
@staff_page(*CARE)
def patient_code_page(user: Actor, patient_id: int):
    found = patient_for(user, patient_id, action="patient.enrollment_code.read")
    shown = session.get(CODE_KEY)
    if not shown or shown.get("patient_id") != found.id:
        flash("The enrollment code is shown only on the page that issued it. Issue a new one below if the patient "
              "has none.", "info")
        return redirect(url_for("console.patient", patient_id=found.id, _anchor="code-heading"))
    return _code_page(user, found, shown["code"], datetime.fromisoformat(shown["expires_at"]))


def _code_page(user: Actor, patient, code: str, expires_at):
    """The enrollment code: as text to read out and as a QR code for the phone's camera. The QR code is the diary
    page's link with the code in its fragment, which a browser never sends to a server (nor to its logs); typing the
    code on that page works too."""
    link = diary_enroll_link(code)
    qr = segno.make(link, error="m")
    # segno writes the SVG from the link alone (our base URL and alphabet), with no script and no style element.
    svg = Markup(qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", title="Enrollment code as a QR code"))
    return render_template("console/enrollment_code.html", user=user, patient=patient, code=code,
                           expires_at=expires_at, qr_svg=svg, diary_link=link.split("#")[0])
