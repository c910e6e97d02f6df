"""The physician's implant decision."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import decisions
from ...services.access import CARE, PATIENT, actor, requires
from .schemas import DecisionIn, DecisionOut

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/trials", description="The implant decision.")



@blp.route("/<int:trial_id>/decision")
class Decision(MethodView):
    @requires(PATIENT, *CARE)  # the service: 403 unless a physician of the care team; strangers 404
    @blp.arguments(DecisionIn)
    @blp.response(201, DecisionOut)
    def post(self, data, trial_id):
        """Record the decision (once; it closes the diary)"""
        return decisions.record_decision(user=actor(), trial_id=trial_id, **data)

    @requires(PATIENT, *CARE)
    @blp.response(200, DecisionOut)
    def get(self, trial_id):
        """The recorded decision"""
        return decisions.get_decision(user=actor(), trial_id=trial_id)
