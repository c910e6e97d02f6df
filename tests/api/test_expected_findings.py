"""Expected findings through the API (docs/clinical-rules.md §3 "Expected findings", issue 22): what may be marked,
what a covered firing stores and tells, a high firing lifting the day's expected alert, ending one, a missed day."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.domain.safety import COVERABLE_RULES, RANK
from api.domain.vocabulary import SYMPTOMS
from api.extensions import db
from api.models import Alert, AuditEvent, ExpectedFinding, Notification, Trial

from ..conftest import drain, entry


def _until(days: float = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _expect(caller, trial_id, rule, days: float = 3, reason="Redness at the exit site, seen at the dressing change"):
    return caller.post(f"/trials/{trial_id}/expected-findings", json={"rule": rule, "until": _until(days),
                                                                       "reason": reason})


def _alerts(app, trial_id):
    with app.app_context():
        rows = db.session.query(Alert).filter_by(trial_id=trial_id).order_by(Alert.id).all()
        return [(a.rule, a.severity, a.status, a.count) for a in rows]


def _alert_notifications(app):
    with app.app_context():
        return [(n.data["type"], n.data["severity"], n.recipient_user_id)
                for n in db.session.query(Notification).filter_by(cause="alert").order_by(Notification.id)]


def test_only_rules_below_high_until_at_most_30_days_ahead_with_a_reason(world, app):
    nurse = world.as_nurse
    for rule in ("infection", "neuro_deficit", "csf_leak", "call_back", "urinary_retention", "fever"):
        answer = _expect(nurse, world.trial_id, rule)
        assert answer.status_code == 422 and "rule" in answer.get_json()["errors"], rule
    for days in (-0.01, 30.01, 45):
        answer = _expect(nurse, world.trial_id, "wound_concern", days=days)
        assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["until"], days
    both = nurse.post(f"/trials/{world.trial_id}/expected-findings", json={
        "rule": "infection", "until": _until(-1), "reason": "Known"})
    assert both.status_code == 422 and set(both.get_json()["errors"]) == {"rule", "until"}
    naive = nurse.post(f"/trials/{world.trial_id}/expected-findings", json={
        "rule": "pain_spike", "until": "2030-01-01T00:00:00", "reason": "Known"})
    assert naive.status_code == 422 and list(naive.get_json()["errors"]) == ["until"]
    for reason in ("", "   ", "x" * 501):
        answer = _expect(nurse, world.trial_id, "wound_concern", reason=reason)
        assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["reason"], reason
    assert _expect(world.as_patient, world.trial_id, "wound_concern").status_code == 403
    assert _expect(world.as_other_nurse, world.trial_id, "wound_concern").status_code == 404
    assert world.as_other_nurse.get(f"/trials/{world.trial_id}/expected-findings").status_code == 404

    made = _expect(world.as_physician, world.trial_id, "missed_diary", days=30)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["rule"] == "missed_diary" and body["created_by"] == world.physician_id and body["ended_at"] is None
    assert body["trial_id"] == world.trial_id and body["reason"].startswith("Redness")
    assert nurse.get(f"/trials/{world.trial_id}/expected-findings").get_json() == [body]

    path = f"/trials/{world.trial_id}/expected-findings/{body['id']}"
    assert world.as_other_nurse.delete(path).status_code == 404
    assert nurse.delete(path).status_code == 204
    ended = nurse.get(f"/trials/{world.trial_id}/expected-findings").get_json()[0]
    assert ended["ended_at"] is not None
    assert nurse.delete(path).status_code == 204  # ending an ended one changes nothing
    assert nurse.get(f"/trials/{world.trial_id}/expected-findings").get_json()[0]["ended_at"] == ended["ended_at"]
    assert nurse.delete(f"/trials/{world.trial_id}/expected-findings/987654").status_code == 404
    with app.app_context():
        actions = {(e.action, e.object_type) for e in db.session.query(AuditEvent).filter(
            AuditEvent.action.like("expected_finding.%"), AuditEvent.outcome == "success")}
    assert {("expected_finding.create", "expected_finding"), ("expected_finding.end", "expected_finding"),
            ("expected_finding.list", "trial")} <= actions


def test_a_covered_firing_is_stored_as_expected_and_tells_no_one(world, app):
    assert _expect(world.as_nurse, world.trial_id, "wound_concern").status_code == 201
    assert _expect(world.as_nurse, world.trial_id, "opioid_side_effects").status_code == 201
    patient = world.as_patient
    # The patient has a phone: a push would go to it for a high alert, never for an expected one.
    assert patient.post("/me/devices", json={"platform": "ios", "token": "abcdef123456"}).status_code == 201
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["wound_redness", "nausea"]))
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["wound_swelling"]))
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=10))  # a pain spike: not expected
    drain(app)
    assert sorted(_alerts(app, world.trial_id)) == [
        ("opioid_side_effects", "low", "expected", 1), ("pain_spike", "medium", "open", 1),
        ("wound_concern", "medium", "expected", 2)]
    assert {(kind, severity) for kind, severity, _ in _alert_notifications(app)} == {("alert.opened", "medium")}
    listed = world.as_nurse.get("/alerts?status=expected").get_json()
    assert sorted((a["rule"], a["status"], a["escalate_at"]) for a in listed) == [
        ("opioid_side_effects", "expected", None), ("wound_concern", "expected", None)]
    row = next(r for r in world.as_nurse.get("/monitoring/trials").get_json() if r["trial_id"] == world.trial_id)
    assert row["open_alerts"] == {"critical": 0, "high": 0, "medium": 1, "low": 0}
    with app.app_context():
        from api.services import notifications

        app.config["DIGEST_HOUR_UTC"] = 0
        try:
            assert notifications.send_daily_digests() == 0  # the expected low alert is no digest line
        finally:
            app.config["DIGEST_HOUR_UTC"] = 13
        assert notifications.escalate_due_alerts() == 0


def test_a_high_firing_is_never_covered_and_lifts_the_days_expected_alert(world, app):
    assert _expect(world.as_nurse, world.trial_id, "lead_problem").status_code == 201
    patient = world.as_patient
    noon = datetime.combine(datetime.now(ZoneInfo("America/New_York")).date() - timedelta(days=1), time(12),
                            tzinfo=ZoneInfo("America/New_York"))
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(noon, symptoms=["dressing_off"]))
    drain(app)
    assert _alerts(app, world.trial_id) == [("lead_problem", "medium", "expected", 1)]
    assert _alert_notifications(app) == []
    patient.post(f"/trials/{world.trial_id}/entries",
                 json=entry(noon + timedelta(hours=2), symptoms=["lead_dislodged"]))
    drain(app)
    assert _alerts(app, world.trial_id) == [("lead_problem", "high", "open", 2)]
    assert _alert_notifications(app) == [("alert.opened", "high", world.nurse_id)]
    # Another day: the high firing opens a high alert at once, covered or not.
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(noon - timedelta(days=1), symptoms=["lead_dislodged"]))
    drain(app)
    assert _alerts(app, world.trial_id)[-1] == ("lead_problem", "high", "open", 1)


def test_after_until_or_once_ended_firings_open_alerts_and_expected_ones_stay(world, app):
    made = _expect(world.as_nurse, world.trial_id, "wound_concern").get_json()
    patient = world.as_patient
    zone = ZoneInfo("America/New_York")
    noon = datetime.combine(datetime.now(zone).date() - timedelta(days=1), time(12), tzinfo=zone)  # one local day

    def wound(at):
        patient.post(f"/trials/{world.trial_id}/entries", json=entry(at, symptoms=["wound_swelling"]))
        drain(app)

    wound(noon - timedelta(hours=3))
    assert _alerts(app, world.trial_id) == [("wound_concern", "medium", "expected", 1)]
    with app.app_context():  # as if time had passed `until`: the finding ran until noon
        db.session.get(ExpectedFinding, made["id"]).until = noon
        db.session.commit()
    wound(noon + timedelta(hours=1))  # recorded after `until`: an ordinary alert
    assert _alerts(app, world.trial_id) == [("wound_concern", "medium", "expected", 1),
                                            ("wound_concern", "medium", "open", 1)]
    wound(noon - timedelta(hours=1))  # recorded before `until`, synced after it: covered (the nurse knew)
    assert _alerts(app, world.trial_id)[0] == ("wound_concern", "medium", "expected", 2)
    # Ended early: nothing is covered any more.
    assert world.as_nurse.delete(f"/trials/{world.trial_id}/expected-findings/{made['id']}").status_code == 204
    wound(noon - timedelta(hours=2))
    assert _alerts(app, world.trial_id) == [("wound_concern", "medium", "expected", 2),
                                            ("wound_concern", "medium", "open", 2)]
    expected = world.as_nurse.get("/alerts?status=expected").get_json()[0]
    acknowledged = world.as_nurse.post(f"/alerts/{expected['id']}/acknowledge", json={"note": "Known."})
    assert acknowledged.status_code == 200, acknowledged.get_json()
    assert (acknowledged.get_json()["status"], acknowledged.get_json()["acknowledged_by"]) == ("expected",
                                                                                                world.nurse_id)
    again = world.as_physician.post(f"/alerts/{expected['id']}/acknowledge", json={})
    assert again.status_code == 409 and again.get_json()["details"]["acknowledged_by"] == world.nurse_id


def test_a_missed_diary_finding_covers_the_days_that_end_before_until(world, app):
    made = _expect(world.as_nurse, world.trial_id, "missed_diary", reason="In hospital overnight").get_json()
    with app.app_context():
        from api.services import alerts

        trial = db.session.get(Trial, world.trial_id)
        trial.timezone = "UTC"
        trial.start_at = datetime.now(UTC).replace(hour=10, minute=0) - timedelta(days=3)
        first_missed_end = datetime.combine(trial.start_at.date() + timedelta(days=2), time(0), tzinfo=UTC)
        # As if the check ran after `until`: the first missed day ends before it, the second after it.
        db.session.get(ExpectedFinding, made["id"]).until = first_missed_end + timedelta(hours=1)
        db.session.commit()
        assert alerts.raise_missed_diaries() == 2
        assert alerts.raise_missed_diaries() == 0
    rows = world.as_nurse.get(f"/alerts?trial_id={world.trial_id}").get_json()
    assert sorted((a["local_day"], a["status"]) for a in rows) == [
        ((first_missed_end - timedelta(days=1)).date().isoformat(), "expected"),
        (first_missed_end.date().isoformat(), "open")]
    row = next(r for r in world.as_nurse.get("/monitoring/trials").get_json() if r["trial_id"] == world.trial_id)
    assert row["missed_diary_days"] == 1


def test_alert_statistics_per_rule_and_severity(world, app):
    assert _expect(world.as_nurse, world.trial_id, "wound_concern").status_code == 201
    patient = world.as_patient
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["wound_redness"]))
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(temperature_c=38.5))
    patient.post(f"/trials/{world.trial_id}/entries",
                 json=entry(datetime.now(UTC) - timedelta(days=1), temperature_c=38.2))
    patient.post(f"/trials/{world.trial_id}/entries",
                 json=entry(datetime.now(UTC) - timedelta(days=2), temperature_c=38.9))
    drain(app)
    infections = world.as_nurse.get("/alerts?status=open").get_json()
    assert len(infections) == 3
    with app.app_context():
        opened = datetime.now(UTC) - timedelta(hours=5)
        for alert, minutes in zip(db.session.query(Alert).filter_by(rule="infection").order_by(Alert.id),
                                  (10, 30), strict=False):
            alert.opened_at, alert.status = opened, "acknowledged"
            alert.acknowledged_at = opened + timedelta(minutes=minutes)
        db.session.commit()
    answer = world.as_admin.get("/alerts/statistics?days=30")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["days"] == 30
    rows = {(r["rule"], r["severity"]): r for r in body["rules"]}
    infection = rows[("infection", "high")]
    assert (infection["raised"], infection["expected"], infection["acknowledged"], infection["still_open"]) == (
        3, 0, 2, 1)
    assert (infection["median_minutes_to_acknowledge"], infection["p90_minutes_to_acknowledge"]) == (20.0, 28.0)
    assert infection["notifications_sent"] == 3  # the nurse, once per alert
    wound = rows[("wound_concern", "medium")]
    assert (wound["raised"], wound["expected"], wound["acknowledged"], wound["still_open"],
            wound["median_minutes_to_acknowledge"], wound["notifications_sent"]) == (1, 1, 0, 0, None, 0)
    assert [r["severity"] for r in body["rules"]] == ["high", "medium"]
    assert world.as_other_nurse.get("/alerts/statistics").get_json()["rules"] == []
    assert world.as_nurse.get("/alerts/statistics?days=0").status_code == 422
    assert world.as_patient.get("/alerts/statistics").status_code == 403


def test_with_every_rule_below_high_expected_only_high_and_critical_alerts_tell_anyone(world, app):
    nurse, patient = world.as_nurse, world.as_patient  # signed in once: the examples are about the entries
    for rule in COVERABLE_RULES:
        assert _expect(nurse, world.trial_id, rule).status_code == 201

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(symptoms=st.lists(st.sampled_from(SYMPTOMS), unique=True, max_size=5), score=st.integers(0, 10),
           hours_ago=st.floats(0.1, 40))
    def only_high_and_critical_tell(symptoms, score, hours_ago):
        patient.post(f"/trials/{world.trial_id}/entries",
                     json=entry(datetime.now(UTC) - timedelta(hours=hours_ago), score=score, symptoms=symptoms))
        drain(app)
        with app.app_context():
            alerts = db.session.query(Alert).filter_by(trial_id=world.trial_id).all()
            told = {n.alert_id for n in db.session.query(Notification).filter(Notification.alert_id.isnot(None))}
        for alert in alerts:
            if alert.status == "expected":
                assert alert.severity in ("low", "medium") and alert.id not in told and alert.escalate_at is None
            else:  # a covered firing below high is never open: what is open is high or critical, and was told
                assert RANK[alert.severity] >= RANK["high"] and alert.id in told, (alert.rule, alert.severity)

    only_high_and_critical_tell()
