"""The worked example of docs/clinical-rules.md §2 as API payloads, shared by the API and integration tests."""

import uuid

TRIAL = {
    "therapy": "scs", "start_at": "2026-11-02T14:00:00-05:00", "end_at": "2026-11-09T09:00:00-05:00",
    "timezone": "America/New_York", "baseline": {"pain": 8, "mme": 30, "odi": 48},
}


def _entry(recorded_at: str, score: int, **fields) -> dict:
    return {"client_id": str(uuid.uuid4()), "recorded_at": recorded_at, "pain": {"score": score}, **fields}


def entries() -> list[dict]:
    return [
        _entry("2026-11-02T17:30:00-05:00", 6),  # the implant day: left out
        _entry("2026-11-03T09:00:00-05:00", 5), _entry("2026-11-03T20:00:00-05:00", 3),
        _entry("2026-11-04T10:00:00-05:00", 4,
               medications=[{"name": "oxycodone", "dose": 10, "unit": "mg", "route": "oral"}]),
        _entry("2026-11-06T10:00:00-05:00", 3),
        _entry("2026-11-07T09:00:00-05:00", 2), _entry("2026-11-07T21:00:00-05:00", 4, function={"odi": 34}),
        _entry("2026-11-08T12:00:00-05:00", 3),
    ]


def assert_matches(evaluation: dict) -> None:
    """The figures docs/clinical-rules.md §2 gives for the example."""
    assert evaluation["final"] is True
    assert evaluation["outcome"] == "success"
    m = evaluation["metrics"]
    assert (m["baseline_pain"], m["trial_pain"], m["pain_relief_percent"]) == (8.0, 3.4, 57.5)
    assert (m["data_buckets"], m["counted_buckets"], m["compliance"]) == (5, 6, 0.833)
    assert (m["baseline_mme"], m["trial_mme"], m["unconverted_medications"]) == (30.0, 3.0, [])
    assert m["latest_odi"] == 34
    by_name = {c["name"]: c for c in evaluation["criteria"]}
    assert by_name["pain_relief"] == {"name": "pain_relief", "required": True, "status": "met", "value": 57.5,
                                      "threshold": 50}
    assert by_name["function"]["status"] == "met" and by_name["function"]["value"] == {"odi_improvement": 14}
    assert by_name["analgesic_use"]["status"] == "met"
    assert evaluation["protocol"]["bucket"] == "day" and evaluation["protocol"]["min_compliance"] == 0.7
