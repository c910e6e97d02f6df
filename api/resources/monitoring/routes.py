"""The worklist."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import monitoring
from ...services.access import CARE, actor, requires
from .schemas import WorklistQuery, WorklistRow

blp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring", description="The nurses' worklist.")



@blp.route("/trials")
class Worklist(MethodView):
    @requires(*CARE)
    @blp.arguments(WorklistQuery, location="query")
    @blp.response(200, WorklistRow(many=True))
    def get(self, query):
        """Open trials, those needing attention first"""
        return monitoring.worklist(user=actor(), mine=query["mine"])
