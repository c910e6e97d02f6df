"""The worklist."""

from flask.views import MethodView
from marshmallow import Schema, fields

from ...extensions import Blueprint
from ...services import monitoring
from ...services.access import CARE, actor, requires

blp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring", description="The nurses' worklist.")


class WorklistQuery(Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "Only trials whose care team I am on."})


class WorklistRow(Schema):
    trial_id = fields.Integer()
    patient_id = fields.Integer()
    patient_display_name = fields.String()
    therapy = fields.String()
    status = fields.String()
    bucket = fields.String()
    day = fields.Integer(metadata={"description": "Day (or hour) N of `of`, the implant day being 1."})
    of = fields.Integer()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    last_entry_at = fields.DateTime(allow_none=True)
    latest_pain = fields.Integer(allow_none=True)
    compliance = fields.Float(allow_none=True)
    pain_relief_percent = fields.Float(allow_none=True)
    outcome = fields.String(allow_none=True)
    final = fields.Boolean(allow_none=True)
    open_alerts = fields.Dict(keys=fields.String(), values=fields.Integer())
    missed_diary_days = fields.Integer()


@blp.route("/trials")
class Worklist(MethodView):
    @requires(*CARE)
    @blp.arguments(WorklistQuery, location="query")
    @blp.response(200, WorklistRow(many=True))
    def get(self, query):
        """Open trials, those needing attention first"""
        return monitoring.worklist(user=actor(), mine=query["mine"])
