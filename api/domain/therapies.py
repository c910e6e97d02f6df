"""The therapy registry: one row per therapy, looked up by `therapy` wherever its rules differ.

A row holds the protocol parameters and defaults, the bucket kind, the evaluation function and the criteria it
judges (in report order), the safety rules that mean something for it, its report wording, and what a trial of
it must carry at creation (docs/evaluation-notes.md, docs/blocks.md). Adding a therapy is adding a row here
(and its rules module, if its rules are new) with its tests; nothing else branches on a therapy's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import blocks, trial_rules
from .facts import Entry, Result, TrialFacts
from .parameters import Parameter

Evaluate = Callable[[TrialFacts, list[Entry], datetime, tuple[str, ...]], Result]

TRIAL_CRITERIA = ("pain_relief", "function", "analgesic_use", "side_effects", "patient_global_impression")
BLOCK_CRITERIA = ("peak_relief", "relief_duration")
# Every rule of domain/safety.py; a therapy lists those that mean something for it.
ALL_SAFETY_RULES = frozenset({
    "neuro_deficit", "respiratory_depression", "infection", "csf_leak", "lead_problem", "urinary_retention",
    "wound_concern", "pain_spike", "opioid_side_effects",
})
# After a block there is no lead and no opioid: the red flags are a new deficit, a bladder or bowel change,
# fever or infection at the needle site, a positional headache (dural puncture), heavy sedation after the
# procedure, retention after a sacral or nerve root block, and a pain flare well above the baseline.
BLOCK_SAFETY_RULES = ALL_SAFETY_RULES - {"lead_problem", "opioid_side_effects"}
STANDARD_OUTCOMES = (("success", "success"), ("failure", "failure"), ("insufficient_data", "insufficient data"))
BLOCK_OUTCOMES = (("success", "positive block"), ("failure", "negative block"),
                  ("insufficient_data", "insufficient data"))


@dataclass(frozen=True)
class Therapy:
    name: str
    title: str  # the report's title
    short: str  # in messages: "SCS trial 4", "Medial branch block 9"
    bucket: str  # day, hour or entry (the default of the `bucket` parameter)
    parameters: dict[str, Parameter]
    defaults: dict[str, Any]
    evaluate: Evaluate
    criteria: tuple[str, ...]
    safety_rules: frozenset[str]
    outcomes: tuple[tuple[str, str], ...] = STANDARD_OUTCOMES  # (outcome, the words a report uses)
    is_block: bool = False  # a target and an agent are required, end_at defaults, a schedule is kept
    levels_required: bool = False  # at least one level (medial branch, nerve root); none allowed otherwise
    defaults_by_agent: dict[str, dict[str, Any]] = field(default_factory=dict)

    def outcome_words(self, outcome: str) -> str:
        return dict(self.outcomes).get(outcome, outcome.replace("_", " "))

    def effective_protocol(self, overrides: dict[str, Any] | None = None, agent: str | None = None) -> dict[str, Any]:
        """The defaults (those that depend on the agent resolved for `agent`) with the trial's overrides."""
        protocol = dict(self.defaults)
        for name, by_agent in self.defaults_by_agent.items():
            if agent in by_agent:
                protocol[name] = by_agent[agent]
        protocol.update(overrides or {})
        return protocol

    def override_problems(self, overrides: Any) -> dict[str, str]:
        """Field-by-field reasons why `overrides` cannot be applied to this therapy; empty when they can."""
        if not isinstance(overrides, dict):
            return {"_schema": "Must be an object of protocol parameters."}
        problems = {}
        for key, value in overrides.items():
            parameter = self.parameters.get(key)
            if parameter is None:
                problems[key] = f"Unknown protocol parameter for {self.name}."
            elif (problem := parameter.problem(value)) is not None:
                problems[key] = problem
        return problems

    def describe(self) -> dict[str, Any]:
        """The published protocol: every parameter with its type, range and default."""
        parameters = []
        for name, parameter in self.parameters.items():
            described = {"name": name, **parameter.describe(), "default": self.defaults.get(name)}
            if name in self.defaults_by_agent:
                described["default_by_agent"] = dict(self.defaults_by_agent[name])
            parameters.append(described)
        return {"therapy": self.name, "title": self.title, "bucket": self.bucket, "block": self.is_block,
                "criteria": list(self.criteria), "parameters": parameters}


_SCS_DEFAULTS = {
    "bucket": "day",
    "exclude_first_buckets": 1,
    "min_pain_relief_percent": 50,
    "require_function": True,
    "min_odi_improvement": 10,
    "min_interference_improvement": 1.0,
    "require_stable_analgesics": True,
    "max_mme_increase_percent": 0,
    "require_acceptable_side_effects": False,
    "max_sedation_score": 2,
    "require_pgic": False,
    "max_pgic": 3,
    "min_data_buckets": 3,
    "min_compliance": 0.7,
}
_INTRATHECAL_DEFAULTS = {
    **_SCS_DEFAULTS,
    "bucket": "hour",
    "require_function": False,
    "require_stable_analgesics": False,
    "require_acceptable_side_effects": True,
    "min_data_buckets": 4,
    "min_compliance": 0.5,
}


def _block(name: str, title: str, short: str, min_relief_percent: float, *, levels_required: bool) -> Therapy:
    return Therapy(
        name=name, title=title, short=short, bucket="entry", parameters=blocks.PARAMETERS,
        defaults={"bucket": "entry", "min_relief_percent": min_relief_percent, "min_relief_hours": None,
                  "onset_window_minutes": 60, "min_timepoints": 4, "relief_measure": "score"},
        defaults_by_agent={"min_relief_hours": blocks.RELIEF_HOURS_BY_AGENT},
        evaluate=blocks.evaluate, criteria=BLOCK_CRITERIA, safety_rules=BLOCK_SAFETY_RULES,
        outcomes=BLOCK_OUTCOMES, is_block=True, levels_required=levels_required,
    )


REGISTRY: dict[str, Therapy] = {
    therapy.name: therapy for therapy in (
        Therapy(name="scs", title="Spinal cord stimulator (SCS) trial", short="SCS trial", bucket="day",
                parameters=trial_rules.PARAMETERS, defaults=_SCS_DEFAULTS, evaluate=trial_rules.evaluate,
                criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES),
        Therapy(name="intrathecal", title="Intrathecal drug delivery trial", short="Intrathecal trial",
                bucket="hour", parameters=trial_rules.PARAMETERS, defaults=_INTRATHECAL_DEFAULTS,
                evaluate=trial_rules.evaluate, criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES),
        # PNS: a temporary percutaneous lead, every default and rule of SCS (docs/blocks.md "New therapies").
        Therapy(name="pns", title="Peripheral nerve stimulation (PNS) trial", short="PNS trial", bucket="day",
                parameters=trial_rules.PARAMETERS, defaults=_SCS_DEFAULTS, evaluate=trial_rules.evaluate,
                criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES),
        _block("medial_branch_block", "Diagnostic medial branch block", "Medial branch block", 80,
               levels_required=True),
        _block("sacroiliac_block", "Diagnostic sacroiliac joint injection", "Sacroiliac block", 75,
               levels_required=False),
        _block("nerve_root_block", "Diagnostic selective nerve root block", "Nerve root block", 50,
               levels_required=True),
    )
}
THERAPIES = tuple(REGISTRY)
BLOCK_THERAPIES = tuple(name for name, t in REGISTRY.items() if t.is_block)


def therapy(name: str) -> Therapy:
    return REGISTRY[name]


def evaluate(trial: TrialFacts, entries: list[Entry], now: datetime) -> Result:
    """The therapy's own evaluation of its trial as of `now`, judging the therapy's criteria."""
    row = REGISTRY[trial.therapy]
    return row.evaluate(trial, entries, now, row.criteria)
