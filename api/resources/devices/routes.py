"""The patient's phones, for reminders."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ...extensions import Blueprint
from ...services import devices
from ...services.access import PATIENT, actor, requires

blp = Blueprint("devices", __name__, url_prefix="/api/v1/me", description="The signed-in patient's devices.")


class DeviceIn(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(["ios", "android"]))
    token = fields.String(required=True, validate=validate.Length(min=8, max=4096))


class DeviceOut(Schema):
    id = fields.Integer()
    platform = fields.String()
    created_at = fields.DateTime()


@blp.route("/devices")
class Devices(MethodView):
    @requires(PATIENT)
    @blp.arguments(DeviceIn)
    @blp.response(201, DeviceOut)
    @blp.alt_response(200, schema=DeviceOut, description="Already registered.")
    def post(self, data):
        """Register this phone's push token"""
        device, created = devices.register_device(user=actor(), **data)
        return device, 201 if created else 200
