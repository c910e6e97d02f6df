"""Documents built from a trial's record: the PDF report, the FHIR R4 Bundle, the CSV of entries.

`TrialRecord` gathers everything once (services/exports.py); the builders here are functions of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class TrialRecord:
    clinic_name: str
    trial: Any  # models.Trial
    patient: Any  # models.Patient
    care_team: list[Any]  # models.User
    entries: list[Any]  # models.DiaryEntry, current versions, voided ones included and marked
    evaluation: dict[str, Any]  # the evaluation record's fields (stored, or computed now if none is)
    evaluation_stored: bool
    buckets: list[Any]  # domain BucketSummary, as of the evaluation
    alerts: list[Any] = field(default_factory=list)  # models.Alert
    users: dict[int, Any] = field(default_factory=dict)  # who acknowledged, who decided
    decision: Any = None  # models.Decision
    generated_at: datetime | None = None
    timepoints: list[Any] = field(default_factory=list)  # a block's domain Timepoints, as of the evaluation
    pathway: dict[str, Any] | None = None  # a block's target row of the patient's pathway
    clinic_address: str | None = None
    clinic_npi: str | None = None
    documentation: dict[str, Any] = field(default_factory=dict)  # the pre-trial documentation as stored
    readiness: dict[str, Any] | None = None  # domain.readiness.readiness() of it
    documentation_updated_at: datetime | None = None
    fhir_base: str = ""  # the canonical base of the project's FHIR code systems (exports/fhir/terms.py)
    # The PDF the physician signed, read only when asked (the FHIR Bundle carries it): None before a decision.
    signed_pdf: Callable[[], bytes | None] = field(default=lambda: None)
