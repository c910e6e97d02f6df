"""factory-boy factories for setting up data the API does not need to create in a test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from api.extensions import db
from api.models import CareTeamMember, Clinic, Patient, Trial, User
from api.services.passwords import hash_password

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class ClinicFactory(Base):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")


class UserFactory(Base):
    class Meta:
        model = User

    clinic = factory.SubFactory(ClinicFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    role = "nurse"
    display_name = factory.Sequence(lambda n: f"Staff {n}")
    password_hash = _PASSWORD_HASH
    # Physicians sign their decisions with their NPI (a valid one: the Luhn check of the NPI standard).
    npi = factory.LazyAttribute(lambda o: "1234567893" if o.role == "physician" else None)


class PatientFactory(Base):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    user = factory.LazyAttribute(lambda o: UserFactory(clinic=o.clinic, role="patient", display_name=None))
    display_name = factory.Sequence(lambda n: f"Patient {n}")
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    date_of_birth = date(1958, 4, 12)
    timezone = "America/New_York"
    # Enrolled (its code used) when its account has a password, as the API makes it.
    enrolled_at = factory.LazyAttribute(lambda o: datetime.now(UTC) if o.user.password_hash else None)


class TrialFactory(Base):
    class Meta:
        model = Trial
        exclude = ("care_team",)

    patient = factory.SubFactory(PatientFactory)
    clinic_id = factory.LazyAttribute(lambda o: o.patient.clinic_id)
    therapy = "scs"
    start_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=3))
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(days=7))
    timezone = "America/New_York"
    baseline = factory.LazyFunction(lambda: {"pain": 8, "mme": 30, "odi": 48})
    protocol_overrides = factory.LazyFunction(dict)
    care_team = ()
    created_by = factory.LazyAttribute(lambda o: o.care_team[0].id if o.care_team else o.patient.user_id)
    care_team_members = factory.LazyAttribute(lambda o: [CareTeamMember(user_id=u.id) for u in o.care_team])
