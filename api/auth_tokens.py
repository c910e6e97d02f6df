"""How bearer tokens map to users: every token names its sign-in session, which logout revokes.

One query per request reads the session and its user; a revoked session or inactive user is a 401.
"""

from __future__ import annotations

from flask_jwt_extended import JWTManager

from .errors import body
from .services.access import Actor
from .services.auth import signed_in_actor


def register(jwt: JWTManager) -> None:
    @jwt.user_lookup_loader
    def load_user(_header, claims) -> Actor | None:
        return signed_in_actor(session_id=claims.get("sid"))

    def refusal(message: str, status: int = 401):
        return body(status, "unauthorized", message), status

    jwt.unauthorized_loader(lambda reason: refusal("A bearer token is required."))
    jwt.invalid_token_loader(lambda reason: refusal("The token is not valid."))
    jwt.expired_token_loader(lambda _h, _c: refusal("The token has expired."))
    jwt.user_lookup_error_loader(lambda _h, _c: refusal("The token was revoked or its account is not active."))
    jwt.needs_fresh_token_loader(lambda _h, _c: refusal("A fresh sign-in is required."))
    jwt.token_verification_failed_loader(lambda _h, _c: refusal("The token is not valid."))
