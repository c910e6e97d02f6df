"""Patient payloads."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates, validates_schema

from ...domain.texting import KEYWORDS, readable
from ...domain.vocabulary import LANGUAGES
from ...extensions.openapi import Out, one_of
from ...models.patient import CONSENT_SOURCES, GENDERS
from ...services.patients import MAX_GOAL_LENGTH, MAX_GOALS
from ..fields import Bool, MobileNumber, PhoneNumber, Timezone, text


def language(**kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(LANGUAGES), metadata={
        "description": "What the patient reads the diary page, reminders and emails in: en (English) or es (Spanish)."},
        **kwargs)


class TextingIn(Schema):
    mobile_number = MobileNumber(allow_none=True, metadata={
        "description": "A mobile number that can receive texts; without +country code it is read in the "
                       "deployment's region (SMS_DEFAULT_REGION). Stored in E.164; null removes it."})
    sms_consent = Bool(metadata={
        "description": "true records that the patient agreed to texts (when, and by whom); false withdraws it."})
    sms_block_night_consent = Bool(metadata={
        "description": "The patient agreed to a block's timepoint texts during quiet hours (21:00-08:00) too."})


def gender(**kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(GENDERS), metadata={
        "description": "Administrative gender (FHIR's and US Core's): female, male, other, or unknown when the patient "
                       "did not say."}, **kwargs)


class PatientPatchIn(TextingIn):
    gender = gender()
    email = fields.Email(validate=validate.Length(max=254), metadata={
        "description": "The patient's email (their account's sign-in name, and where their messages go)."})
    language = language()
    caregiver_name = text(200, allow_none=True, metadata={
        "description": "Who else the clinic may call about the patient; null removes it."})
    caregiver_phone = PhoneNumber(allow_none=True, metadata={"description": "The caregiver's number; null removes it."})


class PatientIn(TextingIn):
    display_name = text(200, required=True)
    mrn = text(64, required=True)
    date_of_birth = fields.Date(required=True)
    gender = gender(load_default="unknown")
    email = fields.Email(required=True, validate=validate.Length(max=254))
    timezone = Timezone(required=True)
    language = language(load_default=LANGUAGES[0])

    @validates("date_of_birth")
    def _plausible_birth_date(self, value: date, **_):
        if value > date.today() or value.year < 1900:
            raise ValidationError("Must be a past date after 1900.")


class TextingOut(Out):
    mobile_number = fields.String(allow_none=True, metadata={"description": "E.164"})
    sms_consent = fields.Boolean()
    sms_consent_at = fields.DateTime(allow_none=True)
    sms_consent_source = one_of(CONSENT_SOURCES, allow_none=True, metadata={
        "description": "staff (on the patient's word), patient (in the phone app), diary (ticked it on the diary "
                       "page), keyword (texted START)"})
    sms_opted_out_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the patient texted STOP; texts resume when they text START."})
    sms_block_night_consent = fields.Boolean()
    textable = fields.Boolean(metadata={"description": "A number, consent, and no STOP: texts may go."})


class PatientOut(TextingOut):
    id = fields.Integer()
    display_name = fields.String()
    mrn = fields.String()
    date_of_birth = fields.Date()
    gender = one_of(GENDERS)
    email = fields.String()
    timezone = fields.String()
    language = one_of(LANGUAGES)
    caregiver_name = fields.String(allow_none=True)
    caregiver_phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    goals = fields.List(fields.String(), metadata={"description": "Up to three, in the patient's own words."})
    enrolled = fields.Boolean()
    created_at = fields.DateTime()


class EnrollmentOut(Out):
    patient = fields.Nested(PatientOut)
    enrollment_code = fields.String(metadata={"description": "Single use; give it to the patient's phone."})
    enrollment_code_expires_at = fields.DateTime()


class ProfilePatchIn(Schema):
    """What a patient changes about themselves: their language, and their goals (the list is replaced whole)."""

    language = language()
    goals = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_GOAL_LENGTH)),
                        validate=validate.Length(max=MAX_GOALS),
                        metadata={"description": f"Up to {MAX_GOALS} goals in the patient's own words, such as "
                                                 "\"walk to the mailbox\"; [] removes them."})

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Send language or goals.", "_schema")


class ClinicContactOut(Out):
    name = fields.String()
    phone = fields.String(allow_none=True, metadata={"description": "E.164, for dialling."})
    phone_readable = fields.String(allow_none=True, metadata={"description": "As a patient reads it."})

    @pre_dump
    def _readable(self, clinic, **_):
        return {"name": clinic.name, "phone": clinic.phone, "phone_readable": readable(clinic.phone) or None}


class ProfileOut(Out):
    id = fields.Integer()
    display_name = fields.String()
    email = fields.String()
    timezone = fields.String()
    language = one_of(LANGUAGES)
    caregiver_name = fields.String(allow_none=True)
    caregiver_phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    goals = fields.List(fields.String())
    clinic = fields.Nested(ClinicContactOut)


class SignInLinkOut(Out):
    id = fields.Integer()
    expires_at = fields.DateTime(metadata={"description": "The link works once, until then."})


class InboundMessageOut(Out):
    id = fields.Integer()
    received_at = fields.DateTime()
    keyword = one_of(dict.fromkeys(KEYWORDS.values()), allow_none=True, metadata={
        "description": "The keyword acted on; null: words kept for the care team."})
    body = fields.String()
    alert_id = fields.Integer(allow_none=True, metadata={"description": "The call-back request a CALL opened."})
