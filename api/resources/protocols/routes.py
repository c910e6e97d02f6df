"""The protocol parameters of every therapy, with their defaults, types and ranges."""

from flask.views import MethodView

from ...domain.therapies import REGISTRY
from ...extensions import Blueprint
from ...services.access import ADMIN, CARE, requires
from .schemas import TherapyProtocolOut

blp = Blueprint("protocols", __name__, url_prefix="/api/v1/protocols",
                description="Protocol defaults per therapy (any signed-in staff).")


@blp.route("")
class Protocols(MethodView):
    @requires(*CARE, ADMIN)
    @blp.response(200, TherapyProtocolOut(many=True))
    def get(self):
        """Each therapy's parameters, with defaults, types and ranges (what a trial's `protocol` may override)"""
        return [therapy.describe() for therapy in REGISTRY.values()]
