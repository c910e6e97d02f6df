"""What the texting tests share (with the `texts` fixture of tests/conftest.py): a timezone where it is a given
hour now, the texts the development provider wrote, and the check that no text holds patient data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from api.domain.safety import LABELS
from api.domain.vocabulary import SYMPTOMS

AUTH_TOKEN = "twilio-auth-token-of-the-tests"
NUMBER = "+12015550123"

# Generic names the diary's medication list knows: none may appear in a text.
DRUGS = ("morphine", "oxycodone", "hydromorphone", "fentanyl", "tramadol", "gabapentin", "bupivacaine",
         "lidocaine", "ropivacaine", "baclofen", "ziconotide")
THERAPY_WORDS = ("stimulator", "intrathecal", "pump", "scs", "pns", "nerve block", "medial branch", "sacroiliac")


def zone_at(hour: int) -> str:
    """An IANA zone (a fixed offset, Etc/GMT±N) whose local time now is `hour` o'clock."""
    offset = ((hour - datetime.now(UTC).hour + 12) % 24) - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def development_texts(instance: str | Path) -> list[dict]:
    path = Path(instance) / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_no_patient_data(bodies: list[str], identity: list[str]) -> None:
    """No name, MRN, email, score, symptom, drug or therapy in any text (the checked-over set of docs/sms.md)."""
    assert bodies, "no text was sent: nothing was checked"
    words = [*identity, *SYMPTOMS, *(s.replace("_", " ") for s in SYMPTOMS), *DRUGS, *THERAPY_WORDS,
             *LABELS.values(), "/10", "score", "relief"]
    for body in bodies:
        lowered = body.lower()
        for word in words:
            if word and len(word) > 2:
                assert word.lower() not in lowered, (word, body)

