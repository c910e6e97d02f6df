"""The worklist, and whether background work is on time."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import monitoring, pipeline
from ...services.access import CARE, STAFF, actor, requires
from .schemas import PipelineStateOut, WorklistQuery, WorklistRow

blp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring",
                description="The nurses' worklist, and whether background work is on time.")


@blp.route("/trials")
class Worklist(MethodView):
    @requires(*CARE)
    @blp.arguments(WorklistQuery, location="query")
    @blp.response(200, WorklistRow(many=True))
    def get(self, query):
        """Open trials, those needing attention first"""
        return monitoring.worklist(user=actor(), mine=query["mine"])


@blp.route("/pipeline")
class Pipeline(MethodView):
    @requires(*STAFF)
    @blp.response(200, PipelineStateOut)
    def get(self):
        """Whether new alerts may be delayed"""
        return pipeline.pipeline_state()
