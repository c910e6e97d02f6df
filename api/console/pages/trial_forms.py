"""The new-trial and edit-trial forms."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...domain.blocks import AGENTS, REGIONS, SIDES
from ...domain.therapies import REGISTRY
from ...errors import Invalid
from ...exports import wording
from ...resources.trials.schemas import TrialIn, TrialPatchIn
from ...services import clinics, patients, trials, users
from ...services.access import CARE, PHYSICIAN, Actor, trial_for
from .. import bp, present
from ..guard import staff_page
from ..present import FormProblems


def _trial_form(user: Actor, *, therapy: str, values=None, errors=None, status=200, message=None, patient_id=None,
                proposal=None):
    """The form of one therapy (from the registry): its own thresholds with its defaults, a block's target and agent
    only for a block; the clinic's physicians ticked on the care team and the clinic's timezone chosen by default."""
    staff = users.care_staff(user=user)
    if values:
        chosen = [int(v) for v in values.getlist("care_team") if v.isdigit()]
    else:
        chosen = [user.id] + [u.id for u in staff if u.role == PHYSICIAN]
    row = REGISTRY[therapy]
    shown = values or MultiDict({"timezone": clinics.clinic_timezone(user.clinic_id)})
    return render_template(
        "console/trial_new.html", user=user, values=shown, errors=errors or {}, message=message,
        patients=patients.list_patients(staff=user), patient_id=patient_id, staff=staff, chosen=chosen,
        therapies=list(wording.THERAPY_NAMES.items()), therapy=therapy, row=row,
        parameters=present.parameter_fields(therapy), zones=present.timezone_choices(), proposal=proposal,
        regions=REGIONS, sides=SIDES, agents=AGENTS,
        no_physician=not any(u.role == PHYSICIAN and u.id in chosen for u in staff),
    ), status


def _therapy(raw: str | None) -> str:
    return raw if raw in REGISTRY else next(iter(REGISTRY))


@bp.route("/trials/new", methods=["GET"])
@staff_page(*CARE)
def trial_new(user: Actor):
    return _trial_form(user, therapy=_therapy(request.args.get("therapy")),
                       patient_id=request.args.get("patient_id", type=int))


def day_buckets_proposal(therapy: str, payload: dict) -> str | None:
    """Why day buckets suit this trial better than the therapy's hourly default, when they do: an intrathecal trial
    longer than a day (a continuous infusion) kept hourly asks for an entry every hour, day and night, and a patient
    writing a few times a day reads as "insufficient data"."""
    row = REGISTRY[therapy]
    if row.bucket != "hour" or "bucket" not in row.parameters or "bucket" in payload.get("protocol", {}):
        return None
    try:
        start, end = (datetime.fromisoformat(payload[k]) for k in ("start_at", "end_at"))
    except (KeyError, TypeError, ValueError):
        return None
    if end - start <= timedelta(days=1):
        return None
    days = (end - start) / timedelta(days=1)
    return (f"This trial lasts {wording.number(days)} days. With hourly buckets the evaluation expects an entry in "
            f"most hours, day and night ({wording.number(days * 24, 0)} hours), and a patient who writes four times "
            "a day would read as insufficient data. Day buckets are proposed below; create the trial to keep them, "
            "or choose hourly buckets.")


@bp.route("/trials/new", methods=["POST"])
@staff_page(*CARE)
def trial_create(user: Actor):
    form = request.form
    therapy = _therapy(present.text(form, "therapy"))
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
    if proposal := day_buckets_proposal(therapy, payload):
        proposed = MultiDict(form)
        proposed["protocol.bucket"] = "day"
        return _trial_form(user, therapy=therapy, values=proposed, proposal=proposal)
    try:
        data = present.load(TrialIn(), payload)
        created = trials.create_trial(staff=user, **data)
    except FormProblems as problems:
        return _trial_form(user, therapy=therapy, values=form, errors=problems.errors, status=422,
                           message=problems.message)
    except Invalid as exc:
        return _trial_form(user, therapy=therapy, values=form, errors=present.flatten(exc.errors or {}), status=422,
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
