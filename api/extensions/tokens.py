"""flask-jwt-extended's manager, remembering the tokens it has verified.

Checking a token (base64 segments, HMAC, claims) cost more than the rest of a diary write's Python,
and a phone sends the same token for every request until it expires. A remembered token is still
checked for expiry on every use, and its session and account are still looked up on every request.
"""

from __future__ import annotations

import time
from functools import lru_cache

import flask_jwt_extended
from flask_jwt_extended import view_decorators
from flask_jwt_extended.config import config

VERIFIED_TOKENS_KEPT = 4096


class JWTManager(flask_jwt_extended.JWTManager):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._verified = lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify)

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if csrf_value is not None or allow_expired:  # not the bearer-header path: nothing to remember
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        claims = self._verified(encoded_token)  # an invalid token raises and is not remembered
        if "exp" in claims and claims["exp"] + config.leeway <= time.time():
            # Expired since it was remembered: decode it again so that the refusal is exactly the library's.
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        return dict(claims)

    def _verify(self, encoded_token: str) -> dict:
        return super()._decode_jwt_from_config(encoded_token)


# After verifying a request's token, flask-jwt-extended reads its header a second time, outside the manager
# (view_decorators._decode_jwt_from_request), and PyJWT checks every character of all three segments in
# Python to do it: about a twentieth of a diary write's CPU. A token's header never changes; remember it too.
# The name is checked first, so that a flask-jwt-extended that no longer has it fails here, not silently.
_read_header = view_decorators.get_unverified_jwt_headers
_remembered_header = lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(_read_header)


def _header(encoded_token: str) -> dict:
    return dict(_remembered_header(encoded_token))


view_decorators.get_unverified_jwt_headers = _header
