"""Monitoring payloads."""

from marshmallow import Schema, fields

from ...domain.facts import OUTCOMES
from ...domain.safety import SEVERITIES
from ...domain.therapies import BUCKETS, THERAPIES
from ...domain.trial_status import STATUSES
from ...extensions.openapi import Out, one_of
from ...services.pipeline import DELAYS


class WorklistQuery(Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "Only trials whose care team I am on."})


OpenAlertsOut = Out.from_dict({severity: fields.Integer() for severity in SEVERITIES}, name="OpenAlerts")


class CallBackCell(Out):
    alert_id = fields.Integer(metadata={"description": "Acknowledge it as an alert once the patient was called."})
    requested_at = fields.DateTime()
    mobile_number = fields.String(allow_none=True, metadata={"description": "E.164; null when none is on file."})


class AcknowledgedCritical(Out):
    acknowledged_at = fields.DateTime()
    by = fields.String(metadata={"description": "The name (or email) of the staff member who acknowledged it."})


class WorklistRow(Out):
    trial_id = fields.Integer()
    patient_id = fields.Integer()
    patient_display_name = fields.String()
    therapy = one_of(THERAPIES)
    status = one_of(STATUSES)
    bucket = one_of(BUCKETS)
    day = fields.Integer(metadata={"description": "Day (or hour) N of `of`, the implant day being 1."})
    of = fields.Integer()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    entries_today = fields.Integer(metadata={"description": "Valid entries since midnight in the trial's timezone."})
    last_entry_at = fields.DateTime(allow_none=True)
    latest_pain = fields.Integer(allow_none=True)
    compliance = fields.Float(allow_none=True)
    timely_percent = fields.Float(allow_none=True, metadata={
        "description": "Entries sent in time, in percent, as of the latest evaluation: a diary mostly sent late "
                       "was written after the fact."})
    pain_relief_percent = fields.Float(allow_none=True, metadata={"description": "For blocks, the peak relief."})
    outcome = one_of(OUTCOMES, allow_none=True)
    final = fields.Boolean(allow_none=True)
    open_alerts = fields.Nested(OpenAlertsOut, metadata={"description": "Open alerts per severity."})
    missed_diary_days = fields.Integer()
    call_back = fields.Nested(CallBackCell, allow_none=True, metadata={
        "description": "The patient's open request to be called back (a high alert), with the number to call."})
    critical_acknowledged_today = fields.List(fields.Nested(AcknowledgedCritical), metadata={
        "description": "Critical alerts of the trial's local today already acknowledged, oldest first: the row "
                       "still says so for the rest of the day."})
    timepoints_recorded = fields.Integer(allow_none=True, metadata={
        "description": "Blocks: valid entries within the diary window (null for other therapies)."})
    timepoints_expected = fields.Integer(allow_none=True, metadata={
        "description": "Blocks: scheduled timepoints due by now (+15, +30, +45, +60 min, then hourly)."})
    timepoints_scheduled = fields.Integer(allow_none=True,
                                          metadata={"description": "Blocks: all scheduled timepoints."})


class PipelineStateOut(Out):
    """Whether background work (safety checks of entries, evaluations, alert notifications) is on time."""

    late = fields.Boolean(metadata={"description": "True when new alerts may reach the care team late: the console "
                                                   "shows its banner."})
    delays = fields.List(one_of(DELAYS), metadata={
        "description": "What is late: beat_stopped (no beat holds its lease, so nothing due is swept), or due work "
                       "of a kind waiting longer than late_after_seconds."})
    checked_at = fields.DateTime()
    late_after_seconds = fields.Float(metadata={"description": "PIPELINE_LATE_SECONDS."})
    beat_running = fields.Boolean()
    beat_lease_expires_at = fields.DateTime(allow_none=True)
    oldest_entry_check_due_at = fields.DateTime(allow_none=True, metadata={
        "description": "The oldest stored entry whose safety check is not yet done (null: none)."})
    oldest_evaluation_due_at = fields.DateTime(allow_none=True)
    oldest_alert_notification_at = fields.DateTime(allow_none=True, metadata={
        "description": "The oldest undelivered notification of a critical or high alert."})
