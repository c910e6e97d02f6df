"""The signed-in user's clinic: its letterhead (name, address, NPI) and its payer readiness requirements."""

from flask.views import MethodView

from ...domain.protocol import THERAPIES
from ...errors import NotFound
from ...extensions import Blueprint
from ...services import clinics
from ...services.access import ADMIN, CARE, actor, requires
from .schemas import ClinicOut, ClinicPatchIn, RequirementsIn, RequirementsOut

blp = Blueprint("clinic", __name__, url_prefix="/api/v1/clinic", description="Your clinic's profile (admins edit).")


@blp.route("")
class Clinic(MethodView):
    @requires(ADMIN, *CARE)
    @blp.response(200, ClinicOut)
    def get(self):
        """Your clinic's profile"""
        return clinics.clinic_profile(user=actor())

    @requires(ADMIN)
    @blp.arguments(ClinicPatchIn)
    @blp.response(200, ClinicOut)
    @blp.alt_response(409, description="Another clinic has this name.")
    def patch(self, data):
        """Change your clinic's name, address, NPI, phone or MRN system"""
        return clinics.update_clinic_profile(admin=actor(), **data)


@blp.route("/readiness-requirements")
class Requirements(MethodView):
    @requires(ADMIN, *CARE)
    @blp.response(200, RequirementsOut(many=True))
    def get(self):
        """The documentation a trial needs before the payer, per therapy: defaults, overrides, in force"""
        return clinics.readiness_requirements(user=actor())


@blp.route("/readiness-requirements/<therapy>", parameters=[
    {"in": "path", "name": "therapy", "schema": {"type": "string", "enum": list(THERAPIES)}}])
class TherapyRequirements(MethodView):
    @requires(ADMIN)
    @blp.arguments(RequirementsIn)
    @blp.response(200, RequirementsOut)
    def put(self, data, therapy):
        """Replace your clinic's overrides of one therapy's readiness requirements"""
        if therapy not in THERAPIES:
            raise NotFound(f"No therapy {therapy!r}; one of: {', '.join(THERAPIES)}.")
        return clinics.put_readiness_requirements(admin=actor(), therapy=therapy, overrides=data["overrides"])
