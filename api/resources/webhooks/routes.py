"""Clinic webhooks (admins)."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ...extensions import Blueprint
from ...services import webhooks
from ...services.access import ADMIN, actor, requires

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", description="Clinic webhook endpoints.")


class WebhookIn(Schema):
    url = fields.URL(required=True, require_tld=False, schemes={"https", "http"}, validate=validate.Length(max=500))
    description = fields.String(validate=validate.Length(max=200))


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(metadata={"description": "HMAC-SHA256 signing secret; shown only now."})


@blp.route("")
class Webhooks(MethodView):
    @requires(ADMIN)
    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookCreatedOut)
    def post(self, data):
        """Register an HTTPS endpoint for alerts and final results"""
        return webhooks.register_webhook(admin=actor(), url=data["url"], description=data.get("description"))

    @requires(ADMIN)
    @blp.response(200, WebhookOut(many=True))
    def get(self):
        """The clinic's webhooks"""
        return webhooks.list_webhooks(admin=actor())


@blp.route("/<int:webhook_id>")
class WebhookById(MethodView):
    @requires(ADMIN)
    @blp.response(200, WebhookOut)
    def delete(self, webhook_id):
        """Stop delivering to a webhook"""
        return webhooks.deactivate_webhook(admin=actor(), webhook_id=webhook_id)
