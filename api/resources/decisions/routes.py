"""The physician's implant decision."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ...extensions import Blueprint
from ...models.decision import DECISIONS
from ...services import decisions
from ...services.access import CARE, PATIENT, actor, requires

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/trials", description="The implant decision.")


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    rationale = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class DecisionOut(Schema):
    id = fields.Integer()
    trial_id = fields.Integer()
    physician_id = fields.Integer()
    decision = fields.String()
    rationale = fields.String()
    evaluation_id = fields.Integer(allow_none=True, metadata={"description": "The latest evaluation at the time."})
    decided_at = fields.DateTime()


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
