"""How refused bearer tokens are answered. Every token names its sign-in session, which logout revokes:
`api.services.access.actor()` reads the session and its user once per request (401 when revoked).
"""

from __future__ import annotations

from flask_jwt_extended import JWTManager

from .errors import body


def register(jwt: JWTManager) -> None:
    def refusal(message: str, status: int = 401):
        return body(status, "unauthorized", message), status

    jwt.unauthorized_loader(lambda reason: refusal("A bearer token is required."))
    jwt.invalid_token_loader(lambda reason: refusal("The token is not valid."))
    jwt.expired_token_loader(lambda _h, _c: refusal("The token has expired."))
    jwt.needs_fresh_token_loader(lambda _h, _c: refusal("A fresh sign-in is required."))
    jwt.token_verification_failed_loader(lambda _h, _c: refusal("The token is not valid."))
