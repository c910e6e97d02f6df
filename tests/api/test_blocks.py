"""Diagnostic block trials through the API: creation rules, evaluation, reminders, pathway, worklist, protocols."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.extensions import db
from api.models import Alert, BlockReminder, Notification
from api.services.block_reminders import send_block_reminders

from ..conftest import drain, entry

MBB_TARGET = {"region": "lumbar", "side": "left", "levels": ["L4-L5", "L5-S1"]}


def block_body(world, start: datetime, **overrides) -> dict:
    return {"patient_id": world.patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
            "baseline": {"pain": 8}, "target": MBB_TARGET, "agent": "lidocaine", **overrides}


def the_example(start: datetime) -> list[dict]:
    """docs/blocks.md's example diary: scores at +15, +30, +45, +60, +90, +120 minutes."""
    return [entry(start + timedelta(minutes=m), score) for m, score in
            ((15, 1), (30, 1), (45, 0), (60, 1), (90, 2), (120, 1))]


def test_a_block_trial_defaults_its_end_and_returns_its_schedule(world):
    nurse = world.as_nurse
    start = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    response = nurse.post("/trials", json=block_body(world, start))
    assert response.status_code == 201, response.get_json()
    trial = response.get_json()
    assert trial["end_at"] == "2026-11-10T17:00:00+00:00"
    assert trial["target"] == MBB_TARGET and trial["agent"] == "lidocaine"
    assert trial["warnings"] == []
    assert trial["protocol"] == {"bucket": "entry", "min_relief_percent": 80, "min_relief_hours": 1.0,
                                 "onset_window_minutes": 60, "min_timepoints": 4, "relief_measure": "score"}
    assert [datetime.fromisoformat(t) - start for t in trial["schedule"]] == [
        timedelta(minutes=m) for m in (15, 30, 45, 60, 120, 180, 240, 300, 360, 420, 480)]
    assert nurse.get(f"/trials/{trial['id']}").get_json()["schedule"] == trial["schedule"]
    scs = nurse.get(f"/trials/{world.trial_id}").get_json()
    assert scs["schedule"] is None and scs["target"] is None and scs["agent"] is None
    bupivacaine = nurse.post("/trials", json=block_body(world, start, agent="bupivacaine",
                                                        end_at=(start + timedelta(hours=4)).isoformat())).get_json()
    assert bupivacaine["protocol"]["min_relief_hours"] == 2.0 and len(bupivacaine["schedule"]) == 7


@pytest.mark.parametrize(("changes", "field"), [
    ({"target": None}, "target"),
    ({"agent": None}, "agent"),
    ({"agent": "morphine"}, "agent"),
    ({"target": {"region": "lumbar", "side": "left", "levels": []}}, "target"),
    ({"target": {"region": "lumbar", "side": "left"}}, "target"),
    ({"target": {"region": "lumbar", "side": "front", "levels": ["L4-L5"]}}, "target"),
    ({"target": {"region": "neck", "side": "left", "levels": ["L4-L5"]}}, "target"),
    ({"target": {"region": "lumbar", "side": "left", "levels": ["L9-L10"]}}, "target"),
    ({"target": {"region": "lumbar", "side": "left", "levels": ["L4-L5", "L4-L5"]}}, "target"),
    ({"therapy": "sacroiliac_block"}, "target"),  # a sacroiliac block has no levels
    ({"protocol": {"min_pain_relief_percent": 50}}, "protocol"),
    ({"protocol": {"relief_measure": "guess"}}, "protocol"),
    ({"protocol": {"bucket": "day"}}, "protocol"),
    ({"protocol": {"min_relief_hours": -1}}, "protocol"),
    ({"end_at": "2026-11-10T08:00:00+00:00"}, "end_at"),
    ({"baseline": {"mme": 10}}, "baseline"),
    ({"therapy": "scs", "end_at": "2026-11-17T09:00:00+00:00"}, "target"),
    ({"therapy": "pns", "target": None, "end_at": "2026-11-17T09:00:00+00:00"}, "agent"),
    ({"therapy": "scs", "target": None, "agent": None}, "end_at"),
    ({"therapy": "scs", "target": None, "agent": None, "end_at": "2026-11-17T09:00:00+00:00",
      "protocol": {"min_relief_percent": 80}}, "protocol"),
])
def test_a_bad_block_is_refused_naming_its_field(world, changes, field):
    body = block_body(world, datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    response = world.as_nurse.post("/trials", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"target": None}, "target", "Required for a medial branch block."),
    ({"target": {"region": "lumbar", "side": "left", "levels": []}}, "target",
     {"levels": ["Name at least one level for a medial branch block."]}),
    ({"therapy": "sacroiliac_block"}, "target", {"levels": ["A sacroiliac block has no levels."]}),
    ({"therapy": "scs", "end_at": "2026-12-20T09:00:00+00:00"}, "end_at",
     "Must be at most 30 days after the start for an SCS trial."),
    ({"therapy": "pns", "end_at": "2027-01-20T09:00:00+00:00"}, "end_at",
     "Must be at most 60 days after the start for a PNS trial."),
    ({"therapy": "intrathecal", "end_at": "2026-12-20T09:00:00+00:00"}, "end_at",
     "Must be at most 30 days after the start for an intrathecal trial."),
])
def test_a_refusal_names_the_therapy_as_a_sentence_says_it(world, changes, field, message):
    body = block_body(world, datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    if changes.get("therapy") in ("scs", "pns", "intrathecal"):
        del body["target"], body["agent"]
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    errors = world.as_nurse.post("/trials", json=body).get_json()["errors"]
    assert errors[field] == (message if isinstance(message, dict) else [message])


def test_other_blocks_and_pns_are_accepted_with_their_defaults(world):
    nurse = world.as_nurse
    start = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    sacro = nurse.post("/trials", json=block_body(
        world, start, therapy="sacroiliac_block", agent="ropivacaine",
        target={"region": "sacral", "side": "bilateral"}, protocol={"relief_measure": "reported"})).get_json()
    assert sacro["target"] == {"region": "sacral", "side": "bilateral", "levels": []}
    assert sacro["protocol"]["min_relief_percent"] == 75 and sacro["protocol"]["relief_measure"] == "reported"
    root = nurse.post("/trials", json=block_body(world, start, therapy="nerve_root_block",
                                                 target={"region": "cervical", "side": "right", "levels": ["C6"]}))
    assert root.status_code == 201 and root.get_json()["protocol"]["min_relief_percent"] == 50
    pns = nurse.post("/trials", json={"patient_id": world.patient_id, "therapy": "pns", "start_at": start.isoformat(),
                                      "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 7}})
    assert pns.status_code == 201 and pns.get_json()["protocol"]["min_pain_relief_percent"] == 50
    assert pns.get_json()["protocol"]["bucket"] == "day" and pns.get_json()["schedule"] is None


def test_the_example_evaluates_to_a_positive_block_then_a_negative_one_with_bupivacaine(world, app):
    nurse, patient = world.as_nurse, world.as_patient
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    outcomes = {}
    for agent in ("lidocaine", "bupivacaine"):
        trial = nurse.post("/trials", json=block_body(world, start, agent=agent)).get_json()
        stored = patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": the_example(start)})
        assert {r["status"] for r in stored.get_json()["results"]} == {"created"}
        drain(app)
        latest = nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()
        assert latest["final"] is True
        outcomes[agent] = latest
    success = outcomes["lidocaine"]
    assert success["outcome"] == "success"
    assert {k: success["metrics"][k] for k in ("timepoints", "peak_relief_percent", "relief_duration_hours",
                                                "onset_minutes")} == {
        "timepoints": 6, "peak_relief_percent": 100.0, "relief_duration_hours": 1.0, "onset_minutes": 15.0}
    assert [(c["name"], c["status"], c["threshold"]) for c in success["criteria"]] == [
        ("peak_relief", "met", 80), ("relief_duration", "met", 1.0)]
    assert outcomes["bupivacaine"]["outcome"] == "failure"
    summary = nurse.get(f"/trials/{trial['id']}/summary").get_json()
    assert summary["bucket"] == "entry" and summary["metrics"]["timepoints"] == 6 and summary["buckets"] == []


def test_after_a_block_a_lead_problem_means_nothing_but_red_flags_alert(world, app):
    nurse, patient = world.as_nurse, world.as_patient
    start = datetime.now(UTC) - timedelta(hours=1)
    trial = nurse.post("/trials", json=block_body(world, start)).get_json()
    patient.post(f"/trials/{trial['id']}/entries", json=entry(start + timedelta(minutes=15), 2,
                                                               symptoms=["lead_dislodged", "nausea"]))
    patient.post(f"/trials/{trial['id']}/entries", json=entry(start + timedelta(minutes=30), 2,
                                                               symptoms=["new_numbness", "positional_headache"]))
    drain(app)
    with app.app_context():
        rules = {(a.rule, a.severity) for a in db.session.query(Alert).filter_by(trial_id=trial["id"])}
    assert rules == {("neuro_deficit", "critical"), ("csf_leak", "high")}


def test_creation_warns_when_the_yearly_count_is_exceeded(world):
    nurse = world.as_nurse
    first = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    answers = [nurse.post("/trials", json=block_body(world, first + timedelta(days=60 * i),
                                                     target={**MBB_TARGET, "side": ("left", "right")[i % 2]}))
               for i in range(4)]
    assert [a.status_code for a in answers] == [201] * 4 and all(a.get_json()["warnings"] == [] for a in answers)
    fifth = nurse.post("/trials", json=block_body(world, first + timedelta(days=250)))
    assert fifth.status_code == 201
    assert len(fifth.get_json()["warnings"]) == 1 and "frequency_exceeded" in fifth.get_json()["warnings"][0]
    # Cancelled blocks do not count; a block in another region does not either.
    nurse.patch(f"/trials/{fifth.get_json()['id']}", json={"status": "cancelled"})
    again = nurse.post("/trials", json=block_body(world, first + timedelta(days=251)))
    assert len(again.get_json()["warnings"]) == 1
    nurse.patch(f"/trials/{again.get_json()['id']}", json={"status": "cancelled"})
    neck = {"region": "cervical", "side": "left", "levels": ["C5-C6"]}
    cervical = nurse.post("/trials", json=block_body(world, first + timedelta(days=252), target=neck))
    assert cervical.get_json()["warnings"] == []
    # A year after the first, the window has moved on.
    later = nurse.post("/trials", json=block_body(world, first + timedelta(days=366)))
    assert later.get_json()["warnings"] == []


def test_the_pathway_per_target_reaches_rfa_candidate_after_two_positive_blocks(world, app):
    nurse, patient = world.as_nurse, world.as_patient
    now = datetime.now(UTC).replace(microsecond=0)
    first_start, second_start = now - timedelta(days=20), now - timedelta(days=6)
    first = nurse.post("/trials", json=block_body(world, first_start)).get_json()
    pathway = nurse.get(f"/patients/{world.patient_id}/pathway").get_json()
    assert [(r["target"], r["next_step"]) for r in pathway["targets"]] == [
        ({"region": "lumbar", "side": "left"}, "pending")]
    patient.post(f"/trials/{first['id']}/entries/batch", json={"entries": the_example(first_start)})
    drain(app)
    row = nurse.get(f"/patients/{world.patient_id}/pathway").get_json()["targets"][0]
    assert row["next_step"] == "confirmatory_block_due" and row["blocks"][0]["outcome"] == "success"
    second = nurse.post("/trials", json=block_body(world, second_start)).get_json()
    sacro = nurse.post("/trials", json=block_body(world, second_start, therapy="sacroiliac_block",
                                                  target={"region": "sacral", "side": "bilateral"})).get_json()
    patient.post(f"/trials/{second['id']}/entries/batch", json={"entries": the_example(second_start)})
    drain(app)
    pathway = nurse.get(f"/patients/{world.patient_id}/pathway").get_json()
    assert pathway["patient_id"] == world.patient_id
    rows = {(r["target"]["region"], r["target"]["side"]): r for r in pathway["targets"]}
    lumbar = rows[("lumbar", "left")]
    assert [b["trial_id"] for b in lumbar["blocks"]] == [first["id"], second["id"]]
    assert [b["outcome"] for b in lumbar["blocks"]] == ["success", "success"]
    assert lumbar["next_step"] == "rfa_candidate" and lumbar["frequency_exceeded"] is False
    sacral = rows[("sacral", "bilateral")]
    assert sacral["next_step"] == "pending"  # no entries: the final evaluation says insufficient data
    assert sacral["blocks"][0]["trial_id"] == sacro["id"]
    # Another clinic's nurse and the patient do not see it.
    assert world.as_other_nurse.get(f"/patients/{world.patient_id}/pathway").status_code == 404
    assert patient.get(f"/patients/{world.patient_id}/pathway").status_code == 403
    assert nurse.get("/patients/999999/pathway").status_code == 404


def _devices(world):
    patient = world.as_patient
    response = patient.post("/me/devices", json={"platform": "ios", "token": "device-token-123456"})
    assert response.status_code in (200, 201), response.get_json()
    return patient


def test_reminders_are_pushed_when_due_unless_an_entry_came_and_never_late(world, app):
    nurse = world.as_nurse
    patient = _devices(world)
    now = datetime.now(UTC)
    quiet = nurse.post("/trials", json=block_body(world, now - timedelta(minutes=20))).get_json()
    diligent = nurse.post("/trials", json=block_body(world, now - timedelta(minutes=20),
                                                     target={**MBB_TARGET, "side": "right"})).get_json()
    patient.post(f"/trials/{diligent['id']}/entries", json=entry(now - timedelta(minutes=8), 1))
    old = nurse.post("/trials", json=block_body(world, now - timedelta(hours=3, minutes=5),
                                                target={**MBB_TARGET, "side": "bilateral"})).get_json()
    with app.app_context():
        assert send_block_reminders() == 2
        assert send_block_reminders() == 0  # done once
        pushes = db.session.query(Notification).filter_by(cause="reminder", channel="push").all()
        assert sorted((n.trial_id, n.data["type"], n.data["minutes_after_block"]) for n in pushes) == [
            (quiet["id"], "block_reminder", 15), (old["id"], "block_reminder", 180)]
        done = sorted((r.trial_id, r.outcome) for r in db.session.query(BlockReminder).filter(
            BlockReminder.done_at.isnot(None)))
        # The old block's +15 min .. +2 h passed long ago: dropped, not pushed late; +3 h (5 minutes ago) went out.
        assert done == sorted([(quiet["id"], "sent"), (diligent["id"], "skipped"), *[(old["id"], "stale")] * 5,
                               (old["id"], "sent")])
        pending = db.session.query(BlockReminder).filter_by(trial_id=quiet["id"], done_at=None).count()
        assert pending == 10
        db.session.remove()
    # Ending the diary early drops the reminders after the new end; cancelling drops the rest.
    nurse.patch(f"/trials/{quiet['id']}", json={"end_at": (now + timedelta(minutes=50)).isoformat()})
    with app.app_context():
        pending = [r.due_at for r in db.session.query(BlockReminder).filter_by(trial_id=quiet["id"], done_at=None)]
        assert len(pending) == 3  # +30, +45, +60
        db.session.remove()
    drain(app)


def test_an_hourly_reminder_is_not_needed_after_an_entry_since_the_previous_time(world, app):
    patient = _devices(world)
    now = datetime.now(UTC)
    trial = world.as_nurse.post("/trials", json=block_body(world, now - timedelta(hours=3, minutes=5))).get_json()
    patient.post(f"/trials/{trial['id']}/entries", json=entry(now - timedelta(minutes=30), 3))  # after +2 h
    with app.app_context():
        assert send_block_reminders() == 0
        assert {r.outcome for r in db.session.query(BlockReminder).filter_by(trial_id=trial["id"])
                if r.done_at is not None} == {"stale", "skipped"}
        db.session.remove()


def test_the_worklist_shows_a_blocks_own_progress(world):
    nurse, patient = world.as_nurse, world.as_patient
    start = datetime.now(UTC) - timedelta(minutes=70)
    trial = nurse.post("/trials", json=block_body(world, start)).get_json()
    for minutes in (14, 31, 50):
        patient.post(f"/trials/{trial['id']}/entries", json=entry(start + timedelta(minutes=minutes), 2))
    rows = {r["trial_id"]: r for r in nurse.get("/monitoring/trials").get_json()}
    row = rows[trial["id"]]
    assert (row["timepoints_recorded"], row["timepoints_expected"], row["timepoints_scheduled"]) == (3, 4, 11)
    assert row["therapy"] == "medial_branch_block" and row["bucket"] == "entry"
    scs = rows[world.trial_id]
    assert scs["timepoints_recorded"] is None and scs["day"] >= 1


def test_the_protocols_are_published_and_the_trial_protocol_is_typed(world, client):
    nurse = world.as_nurse
    published = {p["therapy"]: p for p in nurse.get("/protocols").get_json()}
    assert set(published) == {"scs", "intrathecal", "pns", "medial_branch_block", "sacroiliac_block",
                              "nerve_root_block"}
    mbb = {p["name"]: p for p in published["medial_branch_block"]["parameters"]}
    assert mbb["min_relief_percent"] == {"name": "min_relief_percent", "type": "number", "minimum": 0,
                                         "maximum": 100, "default": 80}
    assert mbb["min_relief_hours"]["default_by_agent"] == {"lidocaine": 1.0, "bupivacaine": 2.0, "ropivacaine": 2.0}
    assert mbb["relief_measure"]["choices"] == ["score", "reported"]
    assert published["medial_branch_block"]["criteria"] == ["peak_relief", "relief_duration"]
    scs = {p["name"]: p["default"] for p in published["scs"]["parameters"]}
    assert scs == {p["name"]: p["default"] for p in published["pns"]["parameters"]}
    assert scs["require_function"] is True and scs["min_compliance"] == 0.7
    assert world.as_admin.get("/protocols").status_code == 200
    assert world.as_patient.get("/protocols").status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()
    protocol = spec["components"]["schemas"]["Protocol"]["properties"]
    assert protocol["min_relief_percent"]["type"] == "number" and protocol["require_function"]["type"] == "boolean"
    assert protocol["min_timepoints"]["type"] == "integer"
    trial_in = spec["components"]["schemas"]["TrialIn"]["properties"]
    assert (trial_in["protocol"].get("$ref") or trial_in["protocol"]["allOf"][0]["$ref"]).endswith("/Protocol")


def test_the_report_fhir_and_csv_of_a_block(world, app):
    import csv
    import io

    from .test_decision_and_exports import pdf_text

    nurse, patient = world.as_nurse, world.as_patient
    now = datetime.now(UTC).replace(microsecond=0)
    first_start, start = now - timedelta(days=20), now - timedelta(hours=10)
    first = nurse.post("/trials", json=block_body(world, first_start)).get_json()
    patient.post(f"/trials/{first['id']}/entries/batch", json={"entries": the_example(first_start)})
    trial = nurse.post("/trials", json=block_body(world, start, agent="bupivacaine")).get_json()
    patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": the_example(start)})
    drain(app)

    text, reader = pdf_text(nurse.get(f"/trials/{trial['id']}/report.pdf"))
    flat = " ".join(text.split())
    assert "Diagnostic medial branch block report" in flat
    assert "FINAL RESULT: NEGATIVE BLOCK" in flat
    assert "lumbar, left, L4-L5 and L5-S1" in flat and "bupivacaine" in flat
    assert "The best relief after the block was 100 % of the pre-block pain (at least 80 % is asked)" in flat
    assert "lasted until 1 h after the block" in flat and "at least 2 h is asked" in flat
    assert "15 minutes after the block" in flat
    assert "positive block" in flat  # the first block, in the target's pathway
    assert "Next step: not indicated" in flat
    assert any("/XObject" in (page.get("/Resources") or {}) for page in reader.pages)  # the chart

    bundle = nurse.get(f"/trials/{trial['id']}/fhir").get_json()
    resources = [e["resource"] for e in bundle["entry"]]
    procedure = next(r for r in resources if r["resourceType"] == "Procedure")
    assert procedure["bodySite"][0]["text"] == "lumbar, left, L4-L5 and L5-S1"
    assert procedure["usedCode"][0]["text"] == "bupivacaine"
    assert procedure["performedDateTime"].startswith(start.isoformat()[:16])
    procedure_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is procedure or
                         e["resource"].get("resourceType") == "Procedure")
    timepoints = [r for r in resources if r["resourceType"] == "Observation"
                  and r["code"]["coding"][0].get("code") == "72514-3"]
    assert len(timepoints) == 6
    assert all(t["partOf"] == [{"reference": procedure_url}] for t in timepoints)
    assert all(datetime.fromisoformat(t["issued"]) >= datetime.fromisoformat(t["effectiveDateTime"])
               for t in timepoints)  # when the server received the entry (a timely diary)
    assert sorted(t["valueQuantity"]["value"] for t in timepoints) == [0, 1, 1, 1, 1, 2]
    reliefs = {c["valueQuantity"]["value"] for t in timepoints for c in t["component"]
               if c["code"]["coding"][0]["code"] == "relief-after-block"}
    assert reliefs == {100.0, 87.5, 75.0}

    response = nurse.get(f"/trials/{trial['id']}/entries.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["pain_score"] for r in rows] == ["1", "1", "0", "1", "2", "1"]


@pytest.mark.parametrize(("path", "allowed"), [
    ("/patients/{patient_id}/pathway", {"nurse": 200, "physician": 200, "other_nurse": 404}),
    ("/protocols", {"admin": 200, "nurse": 200, "physician": 200, "other_nurse": 200}),
])
def test_the_role_matrix_of_the_new_endpoints(world, path, allowed):
    from ..conftest import ApiClient

    for role in ("anonymous", "admin", "nurse", "physician", "patient", "second_patient", "other_nurse"):
        caller = ApiClient(world.client) if role == "anonymous" else getattr(world, f"as_{role}")
        expected = allowed.get(role, 401 if role == "anonymous" else 403)
        response = caller.get(path.format(patient_id=world.patient_id))
        assert response.status_code == expected, (role, response.get_json())
