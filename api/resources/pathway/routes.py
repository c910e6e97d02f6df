"""A patient's diagnostic block pathway."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import pathway
from ...services.access import CARE, actor, requires
from .schemas import PathwayOut

blp = Blueprint("pathway", __name__, url_prefix="/api/v1/patients",
                description="What a patient's diagnostic blocks say together (nurses, physicians).")


@blp.route("/<int:patient_id>/pathway")
class Pathway(MethodView):
    @requires(*CARE)
    @blp.response(200, PathwayOut)
    def get(self, patient_id):
        """Per target: the blocks in time order, their final outcomes, the next step and the yearly count"""
        return pathway.patient_pathway(user=actor(), patient_id=patient_id)
