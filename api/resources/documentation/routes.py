"""The trial's pre-trial documentation (what a payer asks for) and its readiness checklist."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import documentation
from ...services.access import CARE, actor, requires
from .schemas import DocumentationIn, DocumentationOut, ReadinessOut

blp = Blueprint("documentation", __name__, url_prefix="/api/v1/trials",
                description="Pre-trial documentation and the payer readiness checklist (care team).")


@blp.route("/<int:trial_id>/documentation")
class Documentation(MethodView):
    @requires(*CARE)
    @blp.response(200, DocumentationOut)
    def get(self, trial_id):
        """The trial's pre-trial documentation"""
        return documentation.get_documentation(user=actor(), trial_id=trial_id)

    @requires(*CARE)
    @blp.arguments(DocumentationIn)
    @blp.response(200, DocumentationOut)
    @blp.alt_response(409, description="The decision was signed or the trial cancelled: it can no longer change.")
    def put(self, data, trial_id):
        """Replace the pre-trial documentation (until the decision is signed)"""
        return documentation.put_documentation(user=actor(), trial_id=trial_id, content=data)


@blp.route("/<int:trial_id>/readiness")
class Readiness(MethodView):
    @requires(*CARE)
    @blp.response(200, ReadinessOut)
    def get(self, trial_id):
        """What a payer will find missing from the documentation, per the clinic's requirements"""
        return documentation.trial_readiness(user=actor(), trial_id=trial_id)
