"""Auth payloads."""

from marshmallow import Schema, ValidationError, fields, validate

from ...domain.vocabulary import LANGUAGES
from ...extensions.openapi import Out, one_of
from ...services.auth import TOKEN_TYPE
from ...services.passwords import MAX_LENGTH, MIN_LENGTH, malformed_for_sign_in, password_problem


def _settable(password: str) -> None:
    if problem := password_problem(password):
        raise ValidationError(problem)


def _not_malformed(password: str) -> None:
    if malformed_for_sign_in(password):
        raise ValidationError("Must not contain NUL characters or unpaired surrogates.")


def new_password() -> fields.String:
    """A password being set: the policy of services.passwords (the email-specific part runs where it is known)."""
    return fields.String(required=True, validate=_settable, load_only=True, metadata={
        "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH,
        "description": "No control characters; not a common or leaked password, a repeated character, a sequence, "
                       "a keyboard pattern, the service's name or the email's name (NIST SP 800-63B)."})


class LoginIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_LENGTH), _not_malformed],
                             load_only=True)


class EnrollIn(Schema):
    enrollment_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = new_password()
    language = fields.String(validate=validate.OneOf(LANGUAGES), metadata={
        "description": "The language the patient chose (en or es); the one the clinic set when absent."})


class TokensOut(Out):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = one_of([TOKEN_TYPE])
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires."})
