"""Evaluation payloads (the record of docs/clinical-rules.md §2)."""

from marshmallow import fields

from ...domain.blocks import PARAMETERS as BLOCK_PARAMETERS
from ...domain.facts import CRITERION_STATUSES, OUTCOMES
from ...domain.therapies import BUCKETS, CRITERIA
from ...extensions.openapi import Either, Out, one_of, optional
from ..trials.schemas import BaselineSchema, ProtocolSchema

QUEUED = "queued"


class _Timeliness:
    """The two timeliness figures every evaluation has, whatever its therapy (nurse-day.md, timely entries); a plain
    mixin, so that marshmallow takes its fields and the document names no schema of its own."""

    entries_late = fields.Integer(metadata={
        "description": "Non-voided entries received more than 24 hours after the time they describe (2 hours for "
                       "intrathecal trials and blocks)."})
    timely_percent = fields.Float(allow_none=True, metadata={
        "description": "Non-voided entries received in time over all of them, in percent, one decimal; null when "
                       "there are none."})


class TrialMetricsOut(_Timeliness, Out):
    """The figures of a trial evaluated by buckets (scs, pns, intrathecal); null where the diary shows nothing."""

    baseline_pain = fields.Float()
    trial_pain = fields.Float(allow_none=True)
    pain_relief_percent = fields.Float(allow_none=True)
    data_buckets = fields.Integer(metadata={"description": "Buckets with at least one valid entry."})
    counted_buckets = fields.Integer()
    compliance = fields.Float(metadata={"description": "data_buckets / counted_buckets, 0 to 1."})
    baseline_mme = fields.Float(allow_none=True)
    trial_mme = fields.Float(allow_none=True, metadata={"description": "Null with hour buckets: MME is daily."})
    unconverted_medications = fields.List(fields.String(), metadata={
        "description": "Medications without a morphine equivalent, left out of trial_mme."})
    latest_odi = fields.Float(allow_none=True)
    trial_interference = fields.Float(allow_none=True)
    latest_pgic = fields.Integer(allow_none=True)
    max_sedation_score = fields.Integer(allow_none=True)


class BlockMetricsOut(_Timeliness, Out):
    """The figures of a diagnostic block (docs/blocks.md)."""

    baseline_pain = fields.Float()
    relief_measure = one_of(BLOCK_PARAMETERS["relief_measure"].choices)
    timepoints = fields.Integer()
    peak_relief_percent = fields.Float(allow_none=True)
    relief_duration_hours = fields.Float()
    onset_minutes = fields.Float(allow_none=True)
    run_start_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    run_end_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    pain_relief_percent = fields.Float(allow_none=True, metadata={"description": "The peak relief."})


def metrics(**kwargs) -> Either:
    return Either(TrialMetricsOut, BlockMetricsOut, metadata={
        "description": "TrialMetricsOut for scs, pns and intrathecal trials; BlockMetricsOut for blocks."}, **kwargs)


class FunctionValueOut(Out):
    """The `function` criterion's improvements over the baseline: those the diary and the baseline allow."""

    odi_improvement = optional(fields.Float())
    interference_improvement = optional(fields.Float())


class SideEffectsValueOut(Out):
    max_sedation_score = fields.Integer(allow_none=True)
    respiratory_depression = fields.Boolean()


class FunctionThresholdOut(Out):
    odi = fields.Float(metadata={"description": "The least ODI improvement (points)."})
    interference = fields.Float(metadata={"description": "The least interference improvement (points)."})


class AnalgesicThresholdOut(Out):
    max_mme = fields.Float(allow_none=True, metadata={"description": "Null without a baseline MME."})
    max_increase_percent = fields.Float()


class SideEffectsThresholdOut(Out):
    max_sedation_score = fields.Integer()


class CriterionOut(Out):
    name = one_of(CRITERIA)
    required = fields.Boolean(metadata={"description": "Whether the outcome depends on it (the protocol says)."})
    status = one_of(CRITERION_STATUSES)
    value = Either(fields.Float(), FunctionValueOut, SideEffectsValueOut, allow_none=True, metadata={
        "description": "What the diary shows: a number, or an object for function and side_effects; null when "
                       "not assessed."})
    threshold = Either(fields.Float(), FunctionThresholdOut, AnalgesicThresholdOut, SideEffectsThresholdOut,
                       metadata={"description": "What the protocol asks: a number, or an object for function, "
                                                "analgesic_use and side_effects."})


class EvaluationOut(Out):
    id = fields.Integer()
    trial_id = fields.Integer()
    evaluated_at = fields.DateTime()
    final = fields.Boolean()
    outcome = one_of(OUTCOMES)
    protocol = fields.Nested(ProtocolSchema, metadata={"description": "The protocol in force when evaluated."})
    metrics = metrics()
    criteria = fields.List(fields.Nested(CriterionOut))


class QueuedOut(Out):
    status = one_of([QUEUED])
    trial_id = fields.Integer()


class BucketOut(Out):
    index = fields.Integer()
    label = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    closed = fields.Boolean()
    counted = fields.Boolean()
    entries = fields.Integer()
    pain = fields.Float(allow_none=True)
    mme = fields.Float(allow_none=True)
    interference = fields.Float(allow_none=True)


class SummaryOut(Out):
    trial_id = fields.Integer()
    as_of = fields.DateTime()
    bucket = one_of(BUCKETS)
    baseline = fields.Nested(BaselineSchema)
    metrics = metrics()
    outcome = one_of(OUTCOMES)
    final = fields.Boolean()
    buckets = fields.List(fields.Nested(BucketOut), metadata={"description": "Empty for blocks (every entry is "
                                                                             "its own timepoint)."})
