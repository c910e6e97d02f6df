"""Clinic webhooks (admins)."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import webhooks
from ...services.access import ADMIN, actor, requires
from .schemas import WebhookCreatedOut, WebhookIn, WebhookOut

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", description="Clinic webhook endpoints.")



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
