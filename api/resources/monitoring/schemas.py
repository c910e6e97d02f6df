"""Monitoring payloads."""

from marshmallow import Schema, fields


class WorklistQuery(Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "Only trials whose care team I am on."})


class WorklistRow(Schema):
    trial_id = fields.Integer()
    patient_id = fields.Integer()
    patient_display_name = fields.String()
    therapy = fields.String()
    status = fields.String()
    bucket = fields.String()
    day = fields.Integer(metadata={"description": "Day (or hour) N of `of`, the implant day being 1."})
    of = fields.Integer()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    last_entry_at = fields.DateTime(allow_none=True)
    latest_pain = fields.Integer(allow_none=True)
    compliance = fields.Float(allow_none=True)
    pain_relief_percent = fields.Float(allow_none=True, metadata={"description": "For blocks, the peak relief."})
    outcome = fields.String(allow_none=True)
    final = fields.Boolean(allow_none=True)
    open_alerts = fields.Dict(keys=fields.String(), values=fields.Integer())
    missed_diary_days = fields.Integer()
    timepoints_recorded = fields.Integer(allow_none=True, metadata={
        "description": "Blocks: valid entries within the diary window (null for other therapies)."})
    timepoints_expected = fields.Integer(allow_none=True, metadata={
        "description": "Blocks: scheduled timepoints due by now (+15, +30, +45, +60 min, then hourly)."})
    timepoints_scheduled = fields.Integer(allow_none=True,
                                          metadata={"description": "Blocks: all scheduled timepoints."})
