"""The page's JSON endpoints under /diary/api/: the same services as the API, with the same `Actor`, on the diary's
cookie session. Bodies are validated by the API's own schemas, and answers use its error shape."""

from __future__ import annotations

import json

from flask import current_app, session

from ..channels.push.webpush import public_key
from ..domain.form_definition import definition
from ..domain.texting import readable
from ..extensions import db
from ..models import Trial
from ..resources.auth.routes import SIGN_IN_LIMITS, client_network, failures_limited
from ..resources.auth.schemas import EnrollIn, LoginIn
from ..resources.call_backs.schemas import CallBackRequestOut
from ..resources.entries.schemas import EntryIn, EntryOut, EntryPatchIn, EntryQuery, VoidIn
from ..resources.patients.schemas import ProfileOut, ProfilePatchIn, TextingIn, TextingOut
from ..resources.texting.routes import LINK_ON_ITS_WAY, SIGN_IN_LINK_REQUESTS
from ..resources.texting.schemas import SignInLinkRequestIn
from ..services import auth, call_backs, devices, diary, patients, sign_in_links, texting, trials
from ..services.access import Actor
from . import bp
from .guard import parsed, parsed_query, signed_in
from .schemas import DiaryTrialOut, SignInLinkIn, SubscriptionIn

_ENTRY, _ENTRIES = EntryOut(), EntryOut(many=True)


def _limited(*limits):
    """The API's sign-in (or enrollment) limits, on the same counters: one allowance per address, not one per door."""
    def decorate(view):
        for limit in reversed(limits):
            view = limit(view)
        return view
    return decorate


def _signed_in_as(session_id: str) -> tuple[dict, int]:
    session.clear()  # a new cookie for the new sign-in
    session["sid"] = session_id
    return {"signed_in": True}, 200


@bp.route("/api/sign-in", methods=["POST"])
@_limited(*SIGN_IN_LIMITS)
def sign_in():
    data = parsed(LoginIn())
    return _signed_in_as(auth.open_cookie_session(kind="diary", email=data["email"], password=data["password"]))


@bp.route("/api/enroll", methods=["POST"])
@_limited(failures_limited("LOGIN_LIMIT_PER_ADDRESS", client_network, "enroll-address"))
def enroll():
    data = parsed(EnrollIn())
    return _signed_in_as(auth.enroll_with_cookie(kind="diary", **data))


@bp.route("/api/sign-in/link", methods=["POST"])
@_limited(failures_limited("LOGIN_LIMIT_PER_ADDRESS", client_network, "sign-in-link-address"))
def sign_in_by_link():
    """A texted sign-in link, used: the page posts the token it read from its address's fragment (so the token is
    in no request line, log or Referer), and gets a diary cookie session, never a token its script could read."""
    token = parsed(SignInLinkIn())["token"]
    return _signed_in_as(auth.open_cookie_session_by_link(kind="diary", token=token))


@bp.route("/api/sign-in-link", methods=["POST"])
@SIGN_IN_LINK_REQUESTS
def request_sign_in_link():
    """Text me a sign-in link (a patient who forgot their password): the same answer whether or not the number is
    known, on the API's allowance per address."""
    sign_in_links.request_link(mobile_number=parsed(SignInLinkRequestIn())["mobile_number"])
    return {"message": LINK_ON_ITS_WAY}, 202


@bp.route("/api/sign-out", methods=["POST"])
def sign_out():
    if session_id := session.get("sid"):
        auth.logout(session_id=session_id)
    session.clear()
    return "", 204


@bp.route("/api/me", methods=["GET"])
@signed_in
def me(user: Actor):
    """The patient, their clinic, and the trials whose diary is open (the page asks which when there are two),
    with their forms: the page draws the record form without another round trip on a slow network."""
    open_trials = trials.open_trials(user=user)
    return {"user_id": user.id, "profile": ProfileOut().dump(patients.own_profile(user=user)),
            "trials": DiaryTrialOut(many=True).dump(open_trials),
            "forms": {trial.therapy: definition(trial.therapy) for trial in open_trials},
            "push_key": public_key(current_app.config)}


@bp.route("/api/me", methods=["PATCH"])
@signed_in
def update_me(user: Actor):
    return ProfileOut().dump(patients.update_own_profile(user=user, **parsed(ProfilePatchIn())))


@bp.route("/api/me/texting", methods=["GET"])
@signed_in
def my_texting(user: Actor):
    return TextingOut().dump(texting.own_patient(user=user))


@bp.route("/api/me/texting", methods=["PATCH"])
@signed_in
def update_my_texting(user: Actor):
    """The patient's mobile number and their consent to texts, given or withdrawn here (source `diary`)."""
    changes = parsed(TextingIn())
    return TextingOut().dump(texting.update_own_texting(user=user, source="diary", **changes))


@bp.route("/api/trials/<int:trial_id>/call-back", methods=["POST"])
@signed_in
def call_me_back(user: Actor, trial_id: int):
    """Ask the care team to call (one open request per trial: asking again answers 200 with when it was asked), and
    the number they will call, as staff see it (null: the clinic has none, and the page says so)."""
    alert, created = call_backs.request_call_back(user=user, trial_id=trial_id)
    # the person's record at the trial's clinic: the number that clinic's care team calls
    number = db.session.get(Trial, alert.trial_id).patient.mobile_number  # theirs: request_call_back checked
    return {**CallBackRequestOut().dump(alert), "call_number": readable(number) or None}, 201 if created else 200


@bp.route("/api/trials/<int:trial_id>/entries", methods=["POST"])
@signed_in
def record(user: Actor, trial_id: int):
    entry, created = diary.record_entry(trial_id=trial_id, data=parsed(EntryIn()), user=user)
    return _ENTRY.dump(entry), 201 if created else 200


@bp.route("/api/trials/<int:trial_id>/entries", methods=["GET"])
@signed_in
def entries(user: Actor, trial_id: int):
    query = parsed_query(EntryQuery())
    page = diary.list_entries(user=user, trial_id=trial_id, **query)
    return {"items": _ENTRIES.dump(page.items), "next_cursor": page.next_cursor}


@bp.route("/api/trials/<int:trial_id>/entries/<int:entry_id>", methods=["PATCH"])
@signed_in
def correct(user: Actor, trial_id: int, entry_id: int):
    changes = parsed(EntryPatchIn())
    return _ENTRY.dump(diary.correct_entry(user=user, trial_id=trial_id, entry_id=entry_id, changes=changes))


@bp.route("/api/trials/<int:trial_id>/entries/<int:entry_id>", methods=["DELETE"])
@signed_in
def void(user: Actor, trial_id: int, entry_id: int):
    reason = parsed(VoidIn())["reason"]
    return _ENTRY.dump(diary.void_entry(user=user, trial_id=trial_id, entry_id=entry_id, reason=reason))


@bp.route("/api/devices", methods=["POST"])
@signed_in
def subscribe(user: Actor):
    """This browser's push subscription, for the evening and block reminders."""
    data = parsed(SubscriptionIn())
    token = json.dumps(data["subscription"])
    device, created = devices.register_device(user=user, platform="web", token=token)
    return {"id": device.id}, 201 if created else 200
