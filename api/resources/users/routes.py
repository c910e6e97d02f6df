"""Staff accounts of the admin's clinic."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import users
from ...services.access import ADMIN, actor, requires
from .profile import StaffProfileIn
from .schemas import UserIn, UserOut

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Clinic staff accounts (admins).")


@blp.route("")
class Users(MethodView):
    @requires(ADMIN)
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    @blp.alt_response(409, description="An account with this email exists.")
    def post(self, data):
        """Create a staff account in your clinic"""
        return users.create_staff_user(clinic_id=actor().clinic_id, **data)

    @requires(ADMIN)
    @blp.response(200, UserOut(many=True))
    def get(self):
        """List your clinic's staff"""
        return users.list_staff(admin=actor())


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @requires(ADMIN)
    @blp.arguments(StaffProfileIn)
    @blp.response(200, UserOut)
    def patch(self, data, user_id):
        """Set a colleague's display name or NPI (a physician's NPI signs their decisions)"""
        return users.update_staff_profile(admin=actor(), user_id=user_id, changes=data)
