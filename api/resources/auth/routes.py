"""Sign-in, refresh, logout, enrollment."""

import hashlib
import ipaddress

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt, jwt_required
from flask_limiter.util import get_remote_address

from ...extensions import Blueprint, limiter
from ...extensions.smorest import ErrorSchema
from ...services import auth
from .schemas import EnrollIn, LoginIn, TokensOut

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens for staff and patients.")


def client_network() -> str:
    """The caller's address; for IPv6 its /64, which one subscriber holds whole (one address each would be no limit)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _account_address_key() -> str:
    """The (account, address) pair: a stranger's wrong guesses never count against the owner's own address.

    The email comes from the API's JSON body or the console's sign-in form: both count against one allowance.
    """
    try:
        body = request.get_json(silent=True) if request.is_json else request.form
    except (ValueError, RecursionError):  # the schema answers it; the limiter takes any exception for an outage
        body = None
    email = str(body.get("email", "")).strip().lower() if hasattr(body, "get") else ""
    pair = f"{email}\n{client_network()}"
    return "login-account-address:" + hashlib.sha256(pair.encode(errors="surrogatepass")).hexdigest()


def _failed(response) -> bool:
    """Only a real failed attempt (a wrong password or code) counts; bad input (422) never reached a check."""
    return response.status_code == 401


def failures_limited(setting: str, key_func, scope: str):
    """Allow `setting` (e.g. "10 per 15 minutes") failed attempts per key; successes are not counted. The counter
    is shared by every view declaring the same scope (the API's sign-in and the console's)."""
    return limiter.shared_limit(lambda: current_app.config[setting], scope, key_func=key_func, deduct_when=_failed)


# Failed sign-ins, wherever they happen (this API, the clinic console): per address, and per account and address.
SIGN_IN_LIMITS = [failures_limited("LOGIN_LIMIT_PER_ADDRESS", client_network, "login-address"),
                  failures_limited("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", _account_address_key, "login-account-address")]


@blp.route("/login")
class Login(MethodView):
    decorators = SIGN_IN_LIMITS

    @blp.doc(security=[])
    @blp.arguments(LoginIn)
    @blp.response(200, TokensOut)
    @blp.alt_response(403, schema=ErrorSchema, description="The password is a temporary one an admin gave (code "
                      "password_change_required): its owner chooses a password of their own in the console first.")
    def post(self, data):
        """Sign in with email and password"""
        return auth.login(email=data["email"], password=data["password"])


@blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @blp.response(200, TokensOut)
    def post(self):
        """New tokens for a refresh token (the refresh token rotates)"""
        claims = get_jwt()
        return auth.refresh(session_id=claims["sid"], refresh_jti=claims["jti"])


@blp.route("/logout")
class Logout(MethodView):
    @jwt_required()
    @blp.response(204)
    def post(self):
        """Revoke this sign-in's access and refresh tokens"""
        auth.logout(session_id=get_jwt()["sid"])


@blp.route("/enroll")
class Enroll(MethodView):
    decorators = [failures_limited("LOGIN_LIMIT_PER_ADDRESS", client_network, "enroll-address")]

    @blp.doc(security=[])
    @blp.arguments(EnrollIn)
    @blp.response(200, TokensOut)
    def post(self, data):
        """Set the patient's password with the enrollment code and sign in

        A second clinic's code, for an account the person already has (they keep the diary with another clinic),
        takes the account's own password instead: it adds that clinic's trials to the account's sign-in and changes
        nothing else. Another password is answered as a bad code is (401), and the code stays usable.
        """
        return auth.enroll(**data)
