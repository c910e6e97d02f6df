"""What the trial page and the report say (issue 19, points 3, 4, 7, 8 and 9): charts that follow the therapy and
stay readable at every length, the therapy's own decisions, what the patient recorded, why a result is
insufficient, and no developer word anywhere a clinician reads."""

from __future__ import annotations

import html as markup
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from api.domain.buckets import Calendar
from api.exports.charts import MAX_TICKS, axis_ticks
from api.extensions import db
from api.models import Patient, User
from tests import factories
from tests.conftest import drain, entry

from .helpers import console_user

TARGET = {"region": "lumbar", "side": "left", "levels": ["L4-L5"]}


def _trial(app, world, therapy: str, *, start: datetime, end: datetime, **fields) -> int:
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        team = [db.session.get(User, world.nurse_id), db.session.get(User, world.physician_id)]
        trial = factories.TrialFactory(patient=patient, care_team=team, therapy=therapy, start_at=start, end_at=end,
                                       timezone="America/Chicago", **fields)
        db.session.commit()
        return trial.id


def _post(world, trial_id: int, entries: list[dict]) -> None:
    answer = world.as_patient.post(f"/trials/{trial_id}/entries/batch", json={"entries": entries})
    assert answer.status_code == 200, answer.get_json()
    assert {r["status"] for r in answer.get_json()["results"]} == {"created"}, answer.get_json()


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def _visible(page: str) -> str:
    """The text a reader sees: no tags, scripts or styles, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def three_trials(app, world):
    """An ended SCS trial, a running intrathecal trial (hourly, kept too sparsely) and an ended medial branch block
    measured by the patient's own relief estimate, each with a diary."""
    now = datetime.now(UTC).replace(microsecond=0)
    scs = world.trial_id
    start = now - timedelta(days=3)
    _post(world, scs, [entry(start + timedelta(days=d, hours=2), score, pain={"score": score, "worst_24h": score + 2,
                                                                               "least_24h": score - 1},
                             function={"sleep_hours": 6 + d, "steps": 3000 + 500 * d, "interference": 4},
                             stimulation={"coverage_percent": 75, "satisfaction": 8})
                       for d, score in ((0, 5), (1, 4), (2, 3))])
    pump = _trial(app, world, "intrathecal", start=now - timedelta(hours=40), end=now + timedelta(hours=8),
                  baseline={"pain": 8})
    _post(world, pump, [entry(now - timedelta(hours=h), 5, sedation_score=2 if h == 33 else 1)
                        for h in (39, 33, 27, 21)])
    block = _trial(app, world, "medial_branch_block", start=now - timedelta(hours=9), end=now - timedelta(hours=1),
                   baseline={"pain": 8}, target=TARGET, agent="lidocaine",
                   protocol_overrides={"relief_measure": "reported"})
    _post(world, block, [entry(now - timedelta(hours=9) + timedelta(minutes=m), 2, pain={"score": 2,
                                                                                        "relief_percent": relief})
                         for m, relief in ((15, 80), (30, 90), (45, 90), (60, 85), (120, 85), (180, 80))])
    drain(app)
    return {"scs": scs, "intrathecal": pump, "medial_branch_block": block}


# --- point 3: charts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "count"), [("hour", 8), ("hour", 24), ("hour", 40), ("hour", 72), ("hour", 720),
                                             ("day", 3), ("day", 10), ("day", 30), ("day", 60)])
def test_the_time_axis_has_few_distinct_labels_at_every_trial_length(kind, count):
    calendar = Calendar(kind=kind, start_at=datetime(2026, 3, 7, 14, 30, tzinfo=UTC), timezone="America/Chicago")
    positions, labels = axis_ticks([calendar.bucket(i) for i in range(count)], kind, "America/Chicago")
    assert 1 <= len(labels) <= MAX_TICKS
    assert len(set(labels)) == len(labels) and positions == sorted(set(positions))
    assert positions[0] == 0 and positions[-1] < count


def test_an_intrathecal_trial_charts_pain_opioids_and_sedation(app, world, three_trials):
    physician = console_user(app, world.physician)
    svg = physician.get(f"/console/trials/{three_trials['intrathecal']}/charts.svg").get_data(as_text=True)
    texts = [markup.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert "Sedation (Pasero 1-4)" in svg and "highest in the hour" in svg and "acceptable: 2" in svg
    assert "No opioid recorded" in svg  # not an empty frame
    hours = [t for t in texts if re.fullmatch(r"Day \d \d\d:\d\d", t)]
    assert hours and len(hours) <= 3 * MAX_TICKS and len(set(hours)) * 3 == len(hours)  # the same few per panel
    page = physician.get(f"/console/trials/{three_trials['intrathecal']}").get_data(as_text=True)
    assert "the highest sedation score (Pasero 1-4) against the highest acceptable, 2" in page
    scs = physician.get(f"/console/trials/{three_trials['scs']}/charts.svg").get_data(as_text=True)
    assert "Sedation" not in scs and "Daily opioid use (MME)" in scs and "Function" in scs


# --- point 4: decisions --------------------------------------------------------------------------------------

def test_a_block_decision_speaks_of_ablation_or_injection_on_every_surface(app, world, three_trials):
    block = three_trials["medial_branch_block"]
    physician = console_user(app, world.physician)
    page = f"/console/trials/{block}"
    form = physician.get(page).get_data(as_text=True)
    for words in ("Proceed to ablation or injection", "Do not proceed", "Repeat the block"):
        assert words in form
    assert "implant" not in _visible(form).lower()
    done = physician.post(f"{page}/decision", {"decision": "implant", "rationale": "Relief 85 % for 3 h."}, page=page)
    assert done.status_code == 302
    shown = physician.get(page).get_data(as_text=True)
    assert "Decision recorded: Proceed to ablation or injection." in shown
    report = _pdf_text(physician.get(f"{page}/report.pdf"))
    assert "Proceed to ablation or injection" in report and "implant" not in report.lower()
    bundle = json.loads(physician.get(f"{page}/fhir.json").get_data(as_text=True))
    impressions = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClinicalImpression"]
    assert impressions[0]["finding"][0]["itemCodeableConcept"]["text"] == "Proceed to ablation or injection"
    pump = physician.get(f"/console/trials/{three_trials['intrathecal']}").get_data(as_text=True)
    assert "Proceed to a permanent intrathecal pump implant" in pump and "No permanent intrathecal pump" in pump


# --- points 7 and 9: what the patient recorded, and why a result is insufficient ---------------------------

def test_the_page_and_the_report_show_what_the_patient_recorded(app, world, three_trials):
    physician = console_user(app, world.physician)
    scs = f"/console/trials/{three_trials['scs']}"
    page = _visible(physician.get(scs).get_data(as_text=True))
    report = _pdf_text(physician.get(f"{scs}/report.pdf"))
    for text in (page, " ".join(report.split())):
        assert "What the patient recorded" in text
        assert "Worst pain in the last 24 hours (NRS) mean 6/10, median 6/10, range 5/10 to 7/10 (3 entries)" in text
        assert "Least pain in the last 24 hours (NRS) mean 3/10" in text
        assert "Sleep mean 7 h, median 7 h, range 6 h to 8 h (3 entries)" in text
        assert "Steps a day mean 3,500 steps" in text
        assert "Stimulation coverage of the painful area mean 75 %" in text
        assert "Satisfaction with the stimulation (0-10) mean 8/10" in text
    pump = _visible(physician.get(f"/console/trials/{three_trials['intrathecal']}").get_data(as_text=True))
    assert "Sedation score (Pasero, 1-4) median 1, highest 2 (4 entries)" in pump
    assert "Stimulation coverage" not in pump and "Steps a day" not in pump
    block = _visible(physician.get(f"/console/trials/{three_trials['medial_branch_block']}").get_data(as_text=True))
    assert "Patient's own estimate of relief mean 85 %" in block


def test_an_insufficient_result_says_what_was_missing(app, world, three_trials):
    physician = console_user(app, world.physician)
    pump = f"/console/trials/{three_trials['intrathecal']}"
    page = _visible(physician.get(pump).get_data(as_text=True))
    counted = re.search(r"Entries on 4 of (\d+) counted hours \((\d+) %", page)
    assert counted and int(counted.group(2)) == round(400 / int(counted.group(1)))  # 10 %, never "1 %"
    missing = re.search(r"Insufficient data: entries in (\d+) % of hours; 50 % asked", page)
    assert missing and missing.group(1) == counted.group(2)
    report = " ".join(_pdf_text(physician.get(f"{pump}/report.pdf")).split())
    assert f"Insufficient data: entries in {missing.group(1)} % of hours; 50 % asked" in report


# --- point 8: no developer words ---------------------------------------------------------------------------

DEVELOPER_WORDS = (
    (re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"), "a snake_case identifier"),
    (re.compile(r"\b[A-Z]{2,}(?:_[A-Z0-9]+)+\b"), "an UPPER_CASE enum"),
    (re.compile(r"/api/"), "an API path"),
    (re.compile(r"[Cc]ompliance:? 0?\.\d"), "a raw fraction called compliance"),
)


def _developer_words(text: str) -> list[str]:
    return [f"{what}: {match.group(0)!r}" for pattern, what in DEVELOPER_WORDS for match in pattern.finditer(text)]


def test_no_developer_words_reach_a_clinician(app, world, three_trials):
    physician = console_user(app, world.physician)
    read = {}
    for therapy, trial_id in three_trials.items():
        read[f"{therapy} page"] = _visible(physician.get(f"/console/trials/{trial_id}").get_data(as_text=True))
        read[f"{therapy} report"] = _pdf_text(physician.get(f"/console/trials/{trial_id}/report.pdf"))
    nurse = console_user(app, world.nurse)
    new_trial = f"/console/trials/new?patient_id={world.patient_id}"
    refused = nurse.post("/console/trials/new", {"patient_id": "x", "therapy": "medial_branch_block",
                                                 "baseline.pain": "eleven", "start_at": "2026-01-01T10:00",
                                                 "timezone": "UTC", "protocol.min_compliance": "2"}, page=new_trial)
    assert refused.status_code == 422
    read["new trial form, refused"] = _visible(refused.get_data(as_text=True))
    patient = nurse.post("/console/patients/new", {"display_name": "A", "mrn": "", "date_of_birth": "yesterday"},
                         page="/console/patients/new")
    assert patient.status_code == 422
    read["new patient form, refused"] = _visible(patient.get_data(as_text=True))
    assert "Date of birth:" in read["new patient form, refused"] and "Baseline pain:" in read["new trial form, refused"]
    found = {name: words for name, text in read.items() if (words := _developer_words(text))}
    assert not found, found
