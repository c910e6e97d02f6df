"""Alerts of the clinic, their acknowledgement, and a trial's notifications."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import alerts, notifications
from ...services.access import CARE, actor, requires
from .schemas import AcknowledgeIn, AlertOut, AlertQuery, NotificationOut

blp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Safety alerts and notifications.")


@blp.route("/alerts")
class Alerts(MethodView):
    @requires(*CARE)
    @blp.arguments(AlertQuery, location="query")
    @blp.response(200, AlertOut(many=True))
    def get(self, query):
        """The clinic's alerts, open and most severe first"""
        return alerts.list_alerts(user=actor(), **query)


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @requires(*CARE)
    @blp.arguments(AcknowledgeIn)
    @blp.response(200, AlertOut)
    def post(self, data, alert_id):
        """Acknowledge an alert (stops its escalation)"""
        return alerts.acknowledge(user=actor(), alert_id=alert_id, note=data.get("note"))


@blp.route("/trials/<int:trial_id>/notifications")
class TrialNotifications(MethodView):
    @requires(*CARE)
    @blp.response(200, NotificationOut(many=True))
    def get(self, trial_id):
        """Notifications about the trial with their delivery state"""
        return notifications.trial_notifications(user=actor(), trial_id=trial_id)
