""""Call me back": the patient asks (phone app, diary page), staff list the requests with the number to call and
acknowledge them as alerts."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import call_backs
from ...services.access import CARE, PATIENT, actor, requires
from .schemas import CallBackOut, CallBackQuery, CallBackRequestOut

blp = Blueprint("call_backs", __name__, url_prefix="/api/v1", description="Call-back requests.")


@blp.route("/trials/<int:trial_id>/call-back")
class CallBackRequest(MethodView):
    @requires(PATIENT)
    @blp.response(201, CallBackRequestOut)
    @blp.alt_response(200, schema=CallBackRequestOut, description="Asked already: the open request, and when.")
    @blp.alt_response(409, description="The diary is closed (code trial_closed): call the clinic.")
    def post(self, trial_id):
        """Ask your care team to call you back"""
        alert, created = call_backs.request_call_back(user=actor(), trial_id=trial_id)
        return alert, 201 if created else 200


@blp.route("/call-backs")
class CallBacks(MethodView):
    @requires(*CARE)
    @blp.arguments(CallBackQuery, location="query")
    @blp.response(200, CallBackOut(many=True))
    def get(self, query):
        """The clinic's call-back requests, open first, with the number to call"""
        return call_backs.list_call_backs(user=actor(), **query)
