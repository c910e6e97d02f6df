"""The signed-in patient's own profile: their language and their goals."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import patients
from ...services.access import PATIENT, actor, requires
from ..patients.schemas import ProfileOut, ProfilePatchIn

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in patient's own profile.")


@blp.route("")
class Me(MethodView):
    @requires(PATIENT)
    @blp.response(200, ProfileOut)
    def get(self):
        """Your profile: language, goals, and your clinic's phone"""
        return patients.own_profile(user=actor())

    @requires(PATIENT)
    @blp.arguments(ProfilePatchIn)
    @blp.response(200, ProfileOut)
    def patch(self, data):
        """Change your language or your goals"""
        return patients.update_own_profile(user=actor(), **data)
