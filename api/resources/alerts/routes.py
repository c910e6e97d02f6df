"""Alerts of the clinic, their acknowledgement, and a trial's notifications."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import alerts, expected_findings, notifications
from ...services.access import CARE, STAFF, actor, requires
from .schemas import (
    AcknowledgeIn,
    AlertOut,
    AlertQuery,
    AlertStatisticsOut,
    ExpectedFindingIn,
    ExpectedFindingOut,
    NotificationOut,
    StatisticsQuery,
)

blp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Safety alerts and notifications.")


@blp.route("/alerts")
class Alerts(MethodView):
    @requires(*CARE)
    @blp.arguments(AlertQuery, location="query")
    @blp.response(200, AlertOut(many=True))
    def get(self, query):
        """The clinic's alerts, open and most severe first"""
        return alerts.list_alerts(user=actor(), **query)


@blp.route("/alerts/statistics")
class AlertStatistics(MethodView):
    @requires(*STAFF)
    @blp.arguments(StatisticsQuery, location="query")
    @blp.response(200, AlertStatisticsOut)
    def get(self, query):
        """What the clinic's alerts cost: per rule and severity, raised, expected, acknowledged, still open, minutes to
        acknowledgement (median, 90th percentile) and notifications sent, over the last `days` days"""
        return alerts.statistics(user=actor(), days=query["days"])


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @requires(*CARE)
    @blp.arguments(AcknowledgeIn)
    @blp.response(200, AlertOut)
    @blp.alt_response(409, description="Already acknowledged: `details` says by whom and when.")
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


@blp.route("/trials/<int:trial_id>/expected-findings")
class ExpectedFindings(MethodView):
    @requires(*CARE)
    @blp.arguments(ExpectedFindingIn)
    @blp.response(201, ExpectedFindingOut)
    def post(self, data, trial_id):
        """Mark a safety rule expected for the trial until a time

        Its medium and low firings are then stored as `expected` alerts that tell no one; a high firing is never
        covered. Only a rule that can fire below high; `until` after now and at most 30 days ahead."""
        return expected_findings.create_finding(user=actor(), trial_id=trial_id, **data)

    @requires(*CARE)
    @blp.response(200, ExpectedFindingOut(many=True))
    def get(self, trial_id):
        """The trial's expected findings, ended ones too, newest first"""
        return expected_findings.list_findings(user=actor(), trial_id=trial_id)


@blp.route("/trials/<int:trial_id>/expected-findings/<int:finding_id>")
class ExpectedFindingById(MethodView):
    @requires(*CARE)
    @blp.response(204)
    def delete(self, trial_id, finding_id):
        """End an expected finding early (it is kept, with when it ended)"""
        expected_findings.end_finding(user=actor(), trial_id=trial_id, finding_id=finding_id)
