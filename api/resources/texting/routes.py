"""The patient's texting settings, sign-in links by text, and the callbacks Twilio makes (delivery status, texts
patients send). The callbacks carry no token: they are refused (403) unless Twilio's signature verifies."""

from functools import wraps

from flask import Response, current_app, request
from flask.views import MethodView
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from ...channels.sms import INBOUND_PATH, STATUS_PATH, public_url
from ...errors import Forbidden
from ...extensions import Blueprint, limiter
from ...extensions.smorest import ErrorSchema
from ...services import sign_in_links, texting
from ...services.access import PATIENT, actor, requires
from ..auth.routes import client_network
from ..patients.schemas import TextingIn, TextingOut
from .schemas import SignInLinkRequestIn, SignInLinkRequestOut, TwilioInboundIn, TwilioStatusIn

blp = Blueprint("texting", __name__, url_prefix="/api/v1", description="Text messages: settings, sign-in links, "
                "and the provider's callbacks.")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
LINK_ON_ITS_WAY = ("If this number belongs to a diary that may receive texts, a link is on its way. It works once, "
                   "for 15 minutes.")
# Asking for a sign-in link, here or on the diary page: one allowance per address, not one per door.
SIGN_IN_LINK_REQUESTS = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LINK_LIMIT_PER_ADDRESS"],
                                             "sign-in-link", key_func=client_network)


def twilio_signed(view):
    """Refuse (403) a callback whose X-Twilio-Signature does not verify with TWILIO_AUTH_TOKEN, before anything
    is read from it. Twilio signs the address it called, which behind a proxy is PUBLIC_BASE_URL's, not the one
    this process sees: that address is rebuilt from PUBLIC_BASE_URL."""

    @wraps(view)
    def checked(*args, **kwargs):
        token, signature = current_app.config["TWILIO_AUTH_TOKEN"], request.headers.get(SIGNATURE_HEADER)
        query = request.query_string.decode("latin-1")
        url = public_url(request.path + (f"?{query}" if query else ""))
        if not (token and signature and RequestValidator(token).validate(url, request.form, signature)):
            raise Forbidden("The request's Twilio signature does not verify.")
        return view(*args, **kwargs)

    return checked


@blp.route("/me/texting")
class MyTexting(MethodView):
    @requires(PATIENT)
    @blp.response(200, TextingOut)
    def get(self):
        """Your mobile number and your consent to texts"""
        return texting.own_patient(user=actor())

    @requires(PATIENT)
    @blp.arguments(TextingIn)
    @blp.response(200, TextingOut)
    def patch(self, data):
        """Set your mobile number, or agree to texts (reminders, sign-in links) or withdraw"""
        return texting.update_own_texting(user=actor(), **data)


@blp.route("/auth/sign-in-link")
class SignInLinkRequest(MethodView):
    decorators = [SIGN_IN_LINK_REQUESTS]

    @blp.arguments(SignInLinkRequestIn)
    @blp.response(202, SignInLinkRequestOut)
    @blp.doc(security=[])
    def post(self, data):
        """Ask for a sign-in link by text to your mobile number (the answer never says whether it is known)"""
        sign_in_links.request_link(mobile_number=data["mobile_number"])
        return {"message": LINK_ON_ITS_WAY}


@blp.route(STATUS_PATH.removeprefix("/api/v1"))
class TwilioStatus(MethodView):
    @twilio_signed
    @blp.arguments(TwilioStatusIn, location="form")
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema, description="The X-Twilio-Signature does not verify.")
    @blp.doc(security=[])
    def post(self, form):
        """Twilio's delivery status callback for a text (signed by Twilio; no token)"""
        texting.status_reported(provider_id=form["MessageSid"], status=form["MessageStatus"],
                                error_code=form.get("ErrorCode"))


@blp.route(INBOUND_PATH.removeprefix("/api/v1"))
class TwilioInbound(MethodView):
    @twilio_signed
    @blp.arguments(TwilioInboundIn, location="form")
    @blp.alt_response(403, schema=ErrorSchema, description="The X-Twilio-Signature does not verify.")
    @blp.doc(security=[], responses={"200": {
        "description": "An empty TwiML document: answers go as texts of their own.",
        "content": {"application/xml": {"schema": {"type": "string"}}}}})
    def post(self, form):
        """Twilio's webhook for a text a patient sent to the clinic's number (signed by Twilio; no token)"""
        texting.receive(provider_id=form["MessageSid"], from_number=form["From"], body=form["Body"])
        return Response(EMPTY_TWIML, status=200, mimetype="application/xml")
