"""The physician's decision on a permanent implant, signed: one per trial, never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import UTCDateTime, db

DECISIONS = ("implant", "no_implant", "repeat_trial")


class Decision(db.Model):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), unique=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    rationale: Mapped[str] = mapped_column(Text)
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))  # what the physician saw
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The electronic signature, copied at signing so that a later change of profile does not rewrite it.
    # NULL on decisions recorded before signatures existed.
    attestation: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_npi: Mapped[str | None] = mapped_column(String(10))
    report_sha256: Mapped[str | None] = mapped_column(String(64))  # of the signed report's PDF bytes

    @property
    def signed(self) -> bool:
        return self.report_sha256 is not None

    @property
    def signature(self) -> dict | None:
        """Who signed, with which NPI, when, what they attested, and the SHA-256 of the report they signed."""
        if not self.signed:
            return None
        return {"signer_id": self.physician_id, "name": self.signer_name, "npi": self.signer_npi,
                "signed_at": self.decided_at, "statement": self.attestation, "report_sha256": self.report_sha256}


class SignedReport(db.Model):
    """The exact PDF the physician signed; its SHA-256 is the decision's `report_sha256`."""

    __tablename__ = "signed_reports"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
