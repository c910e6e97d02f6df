"""A trial's pre-trial documentation (what a payer asks for before an implant), and a clinic's readiness rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import JSONDocument, UTCDateTime, db


class TrialDocumentation(db.Model):
    """One document per trial, replaced whole by each PUT (codes, conservative care, evaluations, imaging)."""

    __tablename__ = "trial_documentation"

    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReadinessRequirement(db.Model):
    """A clinic's overrides of a therapy's default readiness requirements (domain/readiness.py)."""

    __tablename__ = "readiness_requirements"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    therapy: Mapped[str] = mapped_column(String(40), primary_key=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
