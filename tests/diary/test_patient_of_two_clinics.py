"""The diary page of a person who is a patient of two clinics (issue 18, finding 6): they join the second clinic's
record on the page with its code and the password they already have; one sign-in lists both clinics' trials, each
with its own clinic to call, and writes to each; the diary closes only when every trial at both clinics is closed.
(The API's side: tests/api/test_patient_of_two_clinics.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from api.extensions import db
from api.models import Clinic
from tests.conftest import drain, entry
from tests.factories import PASSWORD
from tests.texting_helpers import NUMBER, development_texts

from .helpers import DiaryPage, diary_page


def _registered_at_clinic_b(world, mobile_number: str = "+12015550177") -> tuple[str, int]:
    """Clinic B registers the world's patient and opens a trial for them; returns B's code and B's trial id."""
    staff_b = world.as_other_nurse
    created = staff_b.post("/patients", json={
        "display_name": "Rosa Alvarez", "mrn": "B-77", "date_of_birth": "1958-04-12", "email": world.patient,
        "timezone": "America/Chicago", "mobile_number": mobile_number, "sms_consent": True}).get_json()
    start = datetime.now(UTC) - timedelta(days=1)
    trial = staff_b.post("/trials", json={
        "patient_id": created["patient"]["id"], "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 7}}).get_json()
    return created["enrollment_code"], trial["id"]


def test_one_sign_in_keeps_the_diaries_of_both_clinics(app, world):
    code, trial_b = _registered_at_clinic_b(world)
    with app.app_context():
        db.session.execute(update(Clinic).where(Clinic.name == "Clinic B").values(phone="+12015550199"))
        db.session.commit()
    page = diary_page(app, world.patient)
    assert [t["id"] for t in page.get("me").get_json()["trials"]] == [world.trial_id]  # B's: not joined yet

    joining = DiaryPage(app.test_client())
    refused = joining.post("enroll", {"enrollment_code": code, "password": "a sentence of my own"})
    assert refused.status_code == 401 and "another clinic" in refused.get_json()["message"]
    joined = joining.post("enroll", {"enrollment_code": code, "password": PASSWORD})
    assert joined.status_code == 200, joined.get_json()

    for each in (page, joining):  # the earlier sign-in still works, and sees B's trial now too
        me = each.get("me").get_json()
        clinics = {t["id"]: t["clinic"]["name"] for t in me["trials"]}
        assert clinics == {world.trial_id: "Clinic A", trial_b: "Clinic B"}
        assert me["profile"]["clinic"]["name"] == "Clinic A"  # the first clinic's record
    phones = {t["id"]: t["clinic"]["phone"] for t in page.get("me").get_json()["trials"]}
    assert phones[trial_b] == "+12015550199" and phones[world.trial_id] is None

    for trial_id in (world.trial_id, trial_b):
        stored = page.post(f"trials/{trial_id}/entries", entry())
        assert stored.status_code == 201, stored.get_json()
        assert len(page.get(f"trials/{trial_id}/entries").get_json()["items"]) == 1
    # Asking B's care team to call: the number is the one B has for the person.
    call = page.post(f"trials/{trial_b}/call-back")
    assert call.status_code == 201 and call.get_json()["call_number"] == "+1 201-555-0177"

    # The diary closes when every trial at both clinics is closed, not when one clinic's is.
    world.as_nurse.patch(f"/trials/{world.trial_id}", json={"status": "cancelled"})
    assert page.get("me").status_code == 200
    world.as_other_nurse.patch(f"/trials/{trial_b}", json={"status": "cancelled"})
    assert page.get("me").status_code == 401
    assert DiaryPage(app.test_client()).sign_in(world.patient).get_json()["code"] == "diary_closed"


def test_a_sign_in_link_by_text_reaches_a_person_both_clinics_have_the_number_of(app, world, texts):
    code, trial_b = _registered_at_clinic_b(world, mobile_number=NUMBER)
    page = DiaryPage(app.test_client())
    assert page.post("enroll", {"enrollment_code": code, "password": PASSWORD}).status_code == 200
    page = DiaryPage(app.test_client())
    assert page.post("sign-in-link", {"mobile_number": NUMBER}).status_code == 202
    drain(app)
    sent = development_texts(app.config["INSTANCE_PATH"])
    assert len(sent) == 1  # one person, one link (two records of one account are not two people sharing a phone)
    token = sent[0]["body"].split("#token=")[1].split()[0]
    assert page.post("sign-in/link", {"token": token}).status_code == 200
    assert sorted(t["id"] for t in page.get("me").get_json()["trials"]) == sorted([world.trial_id, trial_b])
