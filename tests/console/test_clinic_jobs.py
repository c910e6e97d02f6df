"""The jobs issue 19 found the console could not do: a colleague's NPI and password, pre-trial documentation and
the clinic's letterhead, alert cards that say what happened, and the worklist's search and filters."""

from __future__ import annotations

from sqlalchemy import select, update

from api.extensions import db
from api.models import AuthSession, Decision, User
from api.services.passwords import verify
from tests.factories import PASSWORD

from .helpers import ConsoleUser, console_user


def _user_id(app, email):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


def _set_npi(app, email, npi):
    with app.app_context():
        db.session.execute(update(User).where(User.email == email).values(npi=npi))
        db.session.commit()


def test_a_physician_without_an_npi_is_told_before_the_form_and_keeps_what_she_typed(app, world):
    _set_npi(app, world.physician, None)
    physician = console_user(app, world.physician)
    page = f"/console/trials/{world.trial_id}"
    html = physician.get(page).get_data(as_text=True)
    assert "has no National Provider Identifier" in html and "Staff page" in html
    assert "Record the decision</button>" not in html and "PATCH" not in html  # the form is not offered
    # A form opened before the NPI was removed: refused, and what she typed is on the page, not lost.
    refused = physician.post(f"{page}/decision", {"decision": "implant", "rationale": "Relief 70 %, walks 2 km."},
                             page=page)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Relief 70 %, walks 2 km." in body and "/api/v1/users" not in body
    with app.app_context():
        assert db.session.execute(select(Decision)).first() is None


def test_the_admin_sets_a_colleagues_name_and_npi_then_the_physician_decides(app, world):
    _set_npi(app, world.physician, None)
    physician_id = _user_id(app, world.physician)
    admin = console_user(app, world.admin)
    staff = admin.get("/console/admin/staff").get_data(as_text=True)
    assert "missing: cannot sign a decision" in staff and f"/console/admin/staff/{physician_id}" in staff
    member = f"/console/admin/staff/{physician_id}"
    bad = admin.post(f"{member}/profile", {"display_name": "Dr Paula Reyes", "npi": "1234567890"}, page=member)
    assert bad.status_code == 422 and "check digit" in bad.get_data(as_text=True)
    assert 'value="Dr Paula Reyes"' in bad.get_data(as_text=True)  # what the admin typed is kept
    saved = admin.post(f"{member}/profile", {"display_name": "Dr Paula Reyes", "npi": "1234567893"}, page=member)
    assert saved.status_code == 302
    with app.app_context():
        stored = db.session.get(User, physician_id)
        assert (stored.display_name, stored.npi) == ("Dr Paula Reyes", "1234567893")
    physician = console_user(app, world.physician)
    page = f"/console/trials/{world.trial_id}"
    assert "Record the decision</button>" in physician.get(page).get_data(as_text=True)
    cleared = admin.post(f"{member}/profile", {"display_name": "Dr Paula Reyes", "npi": ""}, page=member)
    assert cleared.status_code == 302
    with app.app_context():
        assert db.session.get(User, physician_id).npi is None  # an empty NPI removes it
    assert console_user(app, world.other_nurse).get(member).status_code == 403
    assert admin.get("/console/admin/staff/999999").status_code == 404


def test_the_admin_gives_a_temporary_password_once_and_the_old_sign_ins_end(app, world):
    nurse_id = _user_id(app, world.nurse)
    nurse = console_user(app, world.nurse)
    admin = console_user(app, world.admin)
    member = f"/console/admin/staff/{nurse_id}"
    answer = admin.post(f"{member}/password", page=member)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 201 and "data-temporary-password" in html
    password = html.split("<code>")[1].split("</code>")[0]
    with app.app_context():
        assert verify(db.session.get(User, nurse_id).password_hash, password)
        assert db.session.execute(select(AuthSession).where(AuthSession.user_id == nurse_id,
                                                            AuthSession.revoked_at.is_(None))).first() is None
    assert nurse.get("/console/").status_code == 302  # signed out at once
    assert password not in admin.get(member).get_data(as_text=True)  # shown once
    admin_id = _user_id(app, world.admin)
    own = admin.post(f"/console/admin/staff/{admin_id}/password", page=member)
    assert own.status_code == 302

    # The temporary password opens only the page where the nurse chooses her own; the API gives it no tokens.
    api = app.test_client()
    refused = api.post("/api/v1/auth/login", json={"email": world.nurse, "password": password})
    assert refused.status_code == 403 and refused.get_json()["code"] == "password_change_required"
    again = ConsoleUser(app.test_client())
    signed_in = again.sign_in(world.nurse, password)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/console/account/password")
    worklist = again.get("/console/")
    assert worklist.status_code == 302 and worklist.headers["Location"].endswith("/console/account/password")
    choose = "/console/account/password"
    assert "You signed in with a temporary password" in again.get(choose).get_data(as_text=True)
    weak = again.post(choose, {"current_password": password, "new_password": "short",
                               "repeat_password": "short"}, page=choose)
    assert weak.status_code == 422 and "New password" in weak.get_data(as_text=True)
    assert "at least 10 characters" in weak.get_data(as_text=True)
    differ = again.post(choose, {"current_password": password, "new_password": "Lantern-river-42",
                                 "repeat_password": "Lantern-river-43"}, page=choose)
    assert differ.status_code == 422 and "the two new passwords differ" in differ.get_data(as_text=True)
    wrong = again.post(choose, {"current_password": "not-the-temporary-one", "new_password": "Lantern-river-42",
                                "repeat_password": "Lantern-river-42"}, page=choose)
    assert wrong.status_code == 401 and "current password is not right" in wrong.get_data(as_text=True)
    chosen = again.post(choose, {"current_password": password, "new_password": "Lantern-river-42",
                                 "repeat_password": "Lantern-river-42"}, page=choose)
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/console/")
    assert again.get("/console/").status_code == 200  # this sign-in goes on, now with her own password
    with app.app_context():
        stored = db.session.get(User, nurse_id)
        assert verify(stored.password_hash, "Lantern-river-42") and not stored.password_change_required
    assert api.post("/api/v1/auth/login", json={"email": world.nurse, "password": password}).status_code == 401
    own = {"email": world.nurse, "password": "Lantern-river-42"}
    assert api.post("/api/v1/auth/login", json=own).status_code == 200


def test_a_staff_member_changes_her_own_password_and_her_other_sign_ins_end(app, world):
    here = console_user(app, world.physician)
    elsewhere = console_user(app, world.physician)
    api = app.test_client()
    tokens = api.post("/api/v1/auth/login", json={"email": world.physician, "password": PASSWORD}).get_json()
    page = "/console/account/password"
    assert "Your password" in here.get("/console/").get_data(as_text=True)  # reached from every page's header
    assert "temporary" not in here.get(page).get_data(as_text=True)
    changed = here.post(page, {"current_password": PASSWORD, "new_password": "Quiet-harbour-2031",
                               "repeat_password": "Quiet-harbour-2031"}, page=page)
    assert changed.status_code == 302
    assert here.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 302  # the other browser is signed out
    stale = api.get("/api/v1/monitoring/trials", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert stale.status_code == 401  # and the phone app's tokens with it
    assert api.post("/api/v1/auth/login", json={"email": world.physician, "password": PASSWORD}).status_code == 401


def test_pre_trial_documentation_is_edited_in_the_console_and_the_checklist_follows(app, world):
    nurse = console_user(app, world.nurse)
    trial_page = f"/console/trials/{world.trial_id}"
    html = nurse.get(trial_page).get_data(as_text=True)
    assert "Payer packet readiness" in html and "Not ready" in html and "No ICD-10-CM diagnosis code" in html
    page = f"{trial_page}/documentation"
    assert nurse.get(page).status_code == 200
    form = {"indications.0.code": "M96.1", "indications.0.description": "Postlaminectomy syndrome",
            "indications.2.code": "G89.4",  # a row left empty between two: skipped, not an error
            "procedures.0.code": "63650",
            "conservative_treatments.0.treatment": "Physical therapy", "conservative_treatments.0.duration": "8",
            "conservative_treatments.0.unit": "months",
            "psychological_evaluation.date": "2026-01-10", "psychological_evaluation.clinician": "Dr Lee",
            "psychological_evaluation.cleared": "yes",
            "substance_use_screening.date": "2026-01-12", "substance_use_screening.result": "negative",
            "imaging.1.date": "2099-01-01", "imaging.1.modality": "mri", "imaging.1.region": "lumbar spine"}
    refused = nurse.post(page, form, page=page)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="imaging-1-date-error"' in body and "future" in body
    assert 'value="Postlaminectomy syndrome"' in body  # nothing typed is lost
    saved = nurse.post(page, {**form, "imaging.1.date": "2025-11-02"}, page=page)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#readiness")
    api = world.as_nurse.get(f"/trials/{world.trial_id}/documentation").get_json()
    assert [i["code"] for i in api["indications"]] == ["M96.1", "G89.4"]
    assert api["psychological_evaluation"]["cleared"] is True and api["imaging"][0]["modality"] == "mri"
    html = nurse.get(trial_page).get_data(as_text=True)
    assert 'data-readiness="ready"' in html
    assert "payers ask for an SCS trial.</p>" in html
    again = nurse.get(page).get_data(as_text=True)
    assert 'value="M96.1"' in again and 'value="8"' in again  # the stored document reads back into the form


def test_the_admin_edits_the_clinic_settings_on_one_page(app, world):
    admin = console_user(app, world.admin)
    assert admin.get("/console/admin/clinic-phone").headers["Location"].endswith("/console/admin/clinic")
    page = "/console/admin/clinic"
    html = admin.get(page).get_data(as_text=True)
    assert "Letterhead" in html and 'value="America/Chicago"' in html
    bad = admin.post(page, {"name": "Clinic A", "address": "1 Main St\nAustin TX", "npi": "1234567890",
                            "phone": "+1 512 555 0100", "timezone": "Mars/Olympus"}, page=page)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "check digit" in text and "Not an IANA timezone" in text
    good = admin.post(page, {"name": "Clinic A", "address": "1 Main St\nAustin TX", "npi": "1234567893",
                             "phone": "+1 512 555 0100", "timezone": "America/Chicago"}, page=page)
    assert good.status_code == 302
    profile = world.as_admin.get("/clinic").get_json()
    assert (profile["address"], profile["npi"], profile["phone"], profile["timezone"]) == (
        "1 Main St\nAustin TX", "1234567893", "+15125550100", "America/Chicago")
    assert console_user(app, world.nurse).get(page).status_code == 403


def _alert_ids(app):
    from api.models import Alert
    with app.app_context():
        return {a.rule: a.id for a in db.session.execute(select(Alert)).scalars()}


def test_alert_cards_say_what_was_reported_what_to_do_who_was_told_and_escalated_ones_rise(app, world):
    from datetime import UTC, datetime, timedelta

    from api.models import Alert, Clinic
    from api.services.notifications import escalate_due_alerts
    from tests.conftest import drain, entry

    with app.app_context():
        db.session.execute(update(Clinic).values(timezone="America/Chicago"))
        db.session.commit()
    patient = world.as_patient
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(temperature_c=38.7, note="Wound is warm"))
    drain(app)
    with app.app_context():  # the infection alert waited past its escalation time; a newer one comes after
        db.session.execute(update(Alert).values(escalate_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
        escalate_due_alerts()
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["urinary_retention"]))
    drain(app)
    nurse = console_user(app, world.nurse)
    html = nurse.get("/console/alerts").get_data(as_text=True)
    ids = _alert_ids(app)
    assert html.index(f'data-alert="{ids["infection"]}"') < html.index(f'data-alert="{ids["urinary_retention"]}"')
    card = html[html.index(f'data-alert="{ids["infection"]}"'):html.index(f'data-alert="{ids["urinary_retention"]}"')]
    assert "temperature 38.7 °C" in card and "note: Wound is warm" in card
    assert "What to do" in card and "wound check" in card
    assert "Told" in card and "(email," in card
    assert "data-escalated" in card and "Escalated" in card
    assert "CST" in card and "UTC" not in card  # the clinic's zone, named
    api_order = [a["id"] for a in world.as_nurse.get("/alerts?status=open").get_json()]
    assert api_order.index(ids["infection"]) < api_order.index(ids["urinary_retention"])  # the API agrees


def test_a_critical_alert_acknowledged_today_stays_on_the_worklist_row(app, world):
    from tests.conftest import drain, entry

    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"]))
    drain(app)
    nurse = console_user(app, world.nurse)
    alert_id = _alert_ids(app)["neuro_deficit"]
    assert nurse.post(f"/console/alerts/{alert_id}/acknowledge", {"note": "Sent to ED"},
                      page="/console/alerts").status_code == 302
    row = nurse.get("/console/live/worklist").get_data(as_text=True)
    assert "Critical, acknowledged" in row and "data-critical-acknowledged" in row
    assert "Last entry" in nurse.get("/console/").get_data(as_text=True)


def test_the_session_warning_and_keep_alive(app, world):
    nurse = console_user(app, world.nurse)
    html = nurse.get("/console/").get_data(as_text=True)
    assert 'data-idle-seconds="900"' in html and "data-session-warning" in html and "Stay signed in" in html
    assert 'rel="icon"' in html and nurse.get("/console/static/favicon.svg").status_code == 200
    assert nurse.post("/console/session/keep-alive").status_code == 204
    assert app.test_client().post("/console/session/keep-alive").status_code == 400  # no CSRF token: refused


def test_search_patients_filter_the_worklist_and_find_decided_trials(app, world):
    from api.models import Patient, Trial

    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        patient.display_name, patient.mrn = "Rosa Alvarez", "RPC-100%"
        db.session.commit()
    nurse = console_user(app, world.nurse)
    assert "Rosa Alvarez" in nurse.get("/console/patients?q=alvar").get_data(as_text=True)
    assert "Rosa Alvarez" in nurse.get("/console/patients?q=rpc-100%25").get_data(as_text=True)  # MRN, any case
    nobody = nurse.get("/console/patients?q=%25%25").get_data(as_text=True)  # % is plain text, not a wildcard
    assert "Rosa Alvarez" not in nobody and "No patient's name or MRN holds" in nobody
    trial_link = f'href="/console/trials/{world.trial_id}"'
    assert trial_link in nurse.get("/console/?therapy=scs&status=active&mine=yes").get_data(as_text=True)
    assert trial_link not in nurse.get("/console/?therapy=intrathecal").get_data(as_text=True)
    assert trial_link not in nurse.get("/console/live/worklist?status=scheduled").get_data(as_text=True)
    assert trial_link in nurse.get("/console/?status=bogus").get_data(as_text=True)  # an unknown value: no filter
    physician = console_user(app, world.physician)
    page = f"/console/trials/{world.trial_id}"
    assert physician.post(f"{page}/decision", {"decision": "implant", "rationale": "Relief 60 %."},
                          page=page).status_code == 302
    decided = nurse.get("/console/?status=decided").get_data(as_text=True)
    assert "Decided trials" in decided and trial_link in decided
    assert trial_link not in nurse.get("/console/").get_data(as_text=True)
    listed = nurse.get("/console/patients?q=Rosa").get_data(as_text=True)
    assert trial_link in listed and "decided" in listed
    with app.app_context():
        assert db.session.get(Trial, world.trial_id).closure == "decided"


def test_contact_details_are_shown_and_edited_after_registration(app, world):
    from api.models import Patient

    nurse = console_user(app, world.nurse)
    page = f"/console/patients/{world.patient_id}"
    html = nurse.get(page).get_data(as_text=True)
    assert "Contact details" in html and "none recorded" in html
    taken = nurse.post(f"{page}/contact", {"email": world.nurse, "language": "es"}, page=page)
    assert taken.status_code == 409 and "already exists" in taken.get_data(as_text=True)
    bad = nurse.post(f"{page}/contact", {"email": "rosa@example.test", "language": "es", "caregiver_name": "Luis",
                                         "caregiver_phone": "not a phone"}, page=page)
    assert bad.status_code == 422 and 'value="Luis"' in bad.get_data(as_text=True)
    saved = nurse.post(f"{page}/contact", {"email": "Rosa@Example.test", "language": "es", "caregiver_name": "Luis",
                                           "caregiver_phone": "+1 201 555 0177"}, page=page)
    assert saved.status_code == 302
    with app.app_context():
        stored = db.session.get(Patient, world.patient_id)
        assert (stored.email, stored.language, stored.caregiver_name, stored.caregiver_phone) == (
            "rosa@example.test", "es", "Luis", "+12015550177")
    assert "Luis, +1 201-555-0177" in nurse.get(page).get_data(as_text=True)
    cleared = nurse.post(f"{page}/contact", {"email": "rosa@example.test", "language": "es"}, page=page)
    assert cleared.status_code == 302
    assert world.as_nurse.get(f"/patients/{world.patient_id}").get_json()["caregiver_name"] is None


def test_the_report_opens_inline_named_by_mrn_and_the_signed_original_downloads(app, world):
    from api.models import Patient

    with app.app_context():
        db.session.get(Patient, world.patient_id).mrn = "RPC/0042"
        db.session.commit()
    physician = console_user(app, world.physician)
    page = f"/console/trials/{world.trial_id}"
    report = physician.get(f"{page}/report.pdf")
    assert report.headers["Content-Disposition"] == f'inline; filename="RPC-0042-trial-{world.trial_id}-report.pdf"'
    assert physician.get(f"{page}/signed-report.pdf").status_code == 404  # nothing signed yet
    assert physician.post(f"{page}/decision", {"decision": "implant", "rationale": "Relief 60 %."},
                          page=page).status_code == 302
    assert "Signed report, as the physician signed it" in physician.get(page).get_data(as_text=True)
    signed = physician.get(f"{page}/signed-report.pdf")
    api = world.as_physician.get(f"/trials/{world.trial_id}/decision/signed-report.pdf")
    assert signed.status_code == 200 and signed.data == api.data and signed.data.startswith(b"%PDF")
    assert "RPC-0042" in signed.headers["Content-Disposition"]
    css = physician.get("/console/static/console.css").get_data(as_text=True)
    assert "@media print" in css


def test_the_new_trial_form_follows_the_therapy_and_the_clinic(app, world):
    from datetime import UTC, datetime, timedelta

    from api.models import Clinic, Trial

    with app.app_context():
        db.session.execute(update(Clinic).where(Clinic.name == "Clinic A").values(timezone="America/Chicago"))
        db.session.commit()
    nurse = console_user(app, world.nurse)
    scs = nurse.get("/console/trials/new").get_data(as_text=True)
    assert '<option value="America/Chicago" selected>' in scs  # the clinic's zone, in a picker
    assert f'value="{world.physician_id}" checked' in scs and f'value="{world.nurse_id}" checked' in scs
    assert "Local anaesthetic" not in scs and "Levels" not in scs  # no block fields on an SCS trial
    assert "asks only what an SCS trial needs" in scs and "Protocol thresholds of an SCS trial" in scs
    block = nurse.get("/console/trials/new?therapy=medial_branch_block").get_data(as_text=True)
    assert "Local anaesthetic" in block and "Oswestry" not in block
    assert "asks only what a medial branch block needs" in block
    pump = nurse.get("/console/trials/new?therapy=intrathecal").get_data(as_text=True)
    assert 'data-label="Default">hour<' in pump
    start = datetime.now(UTC) + timedelta(hours=2)
    fields = {"patient_id": str(world.patient_id), "therapy": "intrathecal", "timezone": "America/Chicago",
              "start_at": start.strftime("%Y-%m-%dT%H:%M"), "end_at": (start + timedelta(days=3)).strftime(
                  "%Y-%m-%dT%H:%M"), "baseline.pain": "8", "care_team": [str(world.physician_id)]}
    proposed = nurse.post("/console/trials/new", fields, page="/console/trials/new")
    html = proposed.get_data(as_text=True)
    assert proposed.status_code == 200 and "Day buckets proposed" in html and "insufficient data" in html
    assert '<option value="day" selected>' in html
    with app.app_context():
        assert db.session.execute(select(Trial).where(Trial.id != world.trial_id)).first() is None  # not yet
    created = nurse.post("/console/trials/new", {**fields, "protocol.bucket": "day"}, page="/console/trials/new")
    assert created.status_code == 302
    hourly = nurse.post("/console/trials/new", {**fields, "protocol.bucket": "hour"}, page="/console/trials/new")
    assert hourly.status_code == 302  # the nurse may keep hourly buckets, by choosing them
    with app.app_context():
        made = list(db.session.execute(select(Trial).where(Trial.id != world.trial_id).order_by(Trial.id)).scalars())
        assert [t.protocol["bucket"] for t in made] == ["day", "hour"]
        assert made[0].timezone == "America/Chicago"
    short = nurse.post("/console/trials/new", {**fields, "end_at": (start + timedelta(hours=8)).strftime(
        "%Y-%m-%dT%H:%M")}, page="/console/trials/new")
    assert short.status_code == 302  # a bolus trial of hours: no proposal
