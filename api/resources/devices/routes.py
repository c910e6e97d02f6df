"""The patient's phones and browsers, for reminders."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import devices
from ...services.access import PATIENT, actor, requires
from .schemas import DeviceIn, DeviceOut

blp = Blueprint("devices", __name__, url_prefix="/api/v1/me", description="The signed-in patient's devices.")



@blp.route("/devices")
class Devices(MethodView):
    @requires(PATIENT)
    @blp.arguments(DeviceIn)
    @blp.response(201, DeviceOut)
    @blp.alt_response(200, schema=DeviceOut, description="Already registered.")
    def post(self, data):
        """Register this phone's push token, or this browser's push subscription"""
        device, created = devices.register_device(user=actor(), **data)
        return device, 201 if created else 200
