"""The clinic's own profile (the report's letterhead: name, address, NPI; the phone patients call; the timezone its
clinic-wide pages read times in) and its readiness requirements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..clock import now
from ..domain import readiness as rules
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Clinic, ReadinessRequirement
from .access import Actor

_UNSET: Any = object()


def clinic_profile(*, user: Actor) -> Clinic:
    return db.session.get(Clinic, user.clinic_id)


def clinic_timezone(clinic_id: int) -> str:
    """The IANA zone the clinic's clinic-wide pages read times in."""
    return db.session.execute(select(Clinic.timezone).where(Clinic.id == clinic_id)).scalar_one()


def update_clinic_profile(*, admin: Actor, name: str | None = None, address: Any = _UNSET,
                          npi: Any = _UNSET, phone: Any = _UNSET, mrn_system: Any = _UNSET,
                          timezone: str | None = None) -> Clinic:
    """Change the fields sent; `None` clears the address, the NPI or the phone, and restores the default MRN system."""
    clinic = db.session.get(Clinic, admin.clinic_id, with_for_update=True)
    if name is not None and name != clinic.name:
        if db.session.execute(select(Clinic.id).where(Clinic.name == name)).first():
            raise Conflict("Another clinic has this name.", errors={"name": ["Already in use."]})
        clinic.name = name
    if address is not _UNSET:
        clinic.address = address
    if npi is not _UNSET:
        clinic.npi = npi
    if phone is not _UNSET:
        clinic.phone = phone
    if mrn_system is not _UNSET:
        clinic.mrn_system = mrn_system
    if timezone is not None:
        clinic.timezone = timezone
    db.session.commit()
    return clinic


def readiness_requirements(*, user: Actor) -> list[dict[str, Any]]:
    """Per therapy with defaults: the defaults, the clinic's overrides, and what is in force."""
    stored = {r.therapy: r.overrides for r in db.session.execute(
        select(ReadinessRequirement).where(ReadinessRequirement.clinic_id == user.clinic_id)).scalars()}
    therapies = list(rules.DEFAULTS) + sorted(set(stored) - set(rules.DEFAULTS))
    return [_requirements(therapy, stored.get(therapy, {})) for therapy in therapies]


def put_readiness_requirements(*, admin: Actor, therapy: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Replace the clinic's overrides for `therapy` (an empty object restores the defaults)."""
    if problems := rules.requirement_problems(overrides):
        raise Invalid("Some requirements are not valid.", errors={"overrides": problems})
    row = db.session.get(ReadinessRequirement, (admin.clinic_id, therapy), with_for_update=True)
    if row is None:
        row = ReadinessRequirement(clinic_id=admin.clinic_id, therapy=therapy, overrides=overrides,
                                   updated_by=admin.id, updated_at=now())
        db.session.add(row)
    else:
        row.overrides, row.updated_by, row.updated_at = overrides, admin.id, now()
    db.session.commit()
    return _requirements(therapy, overrides)


def _requirements(therapy: str, overrides: dict[str, Any]) -> dict[str, Any]:
    return {"therapy": therapy, "defaults": rules.effective_requirements(therapy), "overrides": overrides,
            "effective": rules.effective_requirements(therapy, overrides),
            "sources": list(rules.SOURCES.get(therapy, ()))}
