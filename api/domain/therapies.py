"""The therapy registry: one row per therapy, looked up by `therapy` wherever its rules differ.

A row holds the protocol parameters and defaults, the bucket kind, the evaluation function and the criteria it
judges (in report order), the safety rules that mean something for it, its report wording, the diary page's
form (domain/forms.py), and what a trial of it must carry at creation (docs/evaluation-notes.md,
docs/blocks.md). Adding a therapy is adding a row here
(and its rules module, if its rules are new) with its tests; nothing else branches on a therapy's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from . import blocks, forms, trial_rules
from .facts import Entry, Result, TrialFacts
from .parameters import Parameter
from .timeliness import timeliness

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
# How long a trial of each kind may run, with room for real practice. Nothing else bounds a trial but its dates,
# and every export, chart and reminder schedule is one row per bucket or timepoint of it: the bound keeps their
# cost a constant. A percutaneous SCS lead stays 3 to 10 days, an intrathecal trial (bolus or catheter infusion)
# a few days: 30 days leaves room for an extended trial while the lead or catheter is still safe to keep in. A
# temporary PNS lead is cleared for up to 60 days of use. A diagnostic block's diary is hours (8 by default):
# its anaesthetic's effect is long over within a day.
WEEKS_OF_TRIAL = timedelta(days=30)
PNS_TRIAL = timedelta(days=60)
HOURS_OF_BLOCK = timedelta(hours=24)
STANDARD_OUTCOMES = (("success", "success"), ("failure", "failure"), ("insufficient_data", "insufficient data"))
BLOCK_OUTCOMES = (("success", "positive block"), ("failure", "negative block"),
                  ("insufficient_data", "insufficient data"))
# The physician's decision after the trial (models.decision.DECISIONS), in the words every screen, report, FHIR
# resource and email uses for the therapy: a trial decides on a permanent implant of the device it tested, a
# diagnostic block on the treatment it tested (radiofrequency ablation after medial branch blocks, a therapeutic
# injection after the others).


# Letters whose spoken name starts with a vowel: "an SCS trial" ("ess"), "an MRI", but "a PNS trial" ("pee").
_LETTERS_NAMED_WITH_A_VOWEL = frozenset("AEFHILMNORSX")


def implant_decisions(device: str) -> tuple[tuple[str, str], ...]:
    """A trial's three decisions, naming the permanent device: "Proceed to a permanent intrathecal pump implant"."""
    return (("implant", f"Proceed to a permanent {device} implant"), ("no_implant", f"No permanent {device} implant"),
            ("repeat_trial", "Repeat the trial"))


# The decisions' generic words, whatever the therapy: the displays of the FHIR code system of decisions.
STANDARD_DECISIONS = (("implant", "Proceed to permanent implant"), ("no_implant", "No permanent implant"),
                      ("repeat_trial", "Repeat the trial"))
BLOCK_DECISIONS = (("implant", "Proceed to ablation or injection"), ("no_implant", "Do not proceed"),
                   ("repeat_trial", "Repeat the block"))


@dataclass(frozen=True)
class Therapy:
    name: str
    title: str  # the report's title
    short: str  # in messages: "SCS trial 4", "Medial branch block 9"
    bucket: str  # day, hour or entry (the default of the `bucket` parameter)
    parameters: dict[str, Parameter]
    max_length: timedelta  # the longest trial from start_at to end_at (WEEKS_OF_TRIAL and the others above)
    defaults: dict[str, Any]
    evaluate: Evaluate
    criteria: tuple[str, ...]
    safety_rules: frozenset[str]
    outcomes: tuple[tuple[str, str], ...] = STANDARD_OUTCOMES  # (outcome, the words a report uses)
    decisions: tuple[tuple[str, str], ...] = implant_decisions("device")  # (decision, its words for this therapy)
    decision_question: str = "Decision on a permanent implant after the trial"
    # The diary's charts, in order (exports/charts.py draws each): a stimulator trial's pain, opioid use and
    # function; an intrathecal trial's pain, opioid use and sedation score, its safety measure; a block's relief
    # (from the pain score, or the patient's estimate) at each timepoint after the block.
    charts: tuple[str, ...] = ("pain", "mme", "function")
    is_block: bool = False  # a target and an agent are required, end_at defaults, a schedule is kept
    levels_required: bool = False  # at least one level (medial branch, nerve root); none allowed otherwise
    defaults_by_agent: dict[str, dict[str, Any]] = field(default_factory=dict)
    form: forms.Form = forms.DAILY_STIMULATION  # what the diary page asks the patient (domain/forms.py)
    patient_title: str = ""  # what the patient calls it, in plain words (a message id: translated on the page)
    # An entry received later than this after the time it describes is late (domain/timeliness.py): a day for a
    # diary of days, 2 hours for one of hours (intrathecal trials, blocks).
    late_after: timedelta = timedelta(hours=24)

    @property
    def in_a_sentence(self) -> str:
        """The short name inside a sentence, with its article: "an SCS trial", "a PNS trial", "an intrathecal trial",
        "a medial branch block". An acronym keeps its capitals and takes the article of its first letter's name."""
        first, _, rest = self.short.partition(" ")
        if first.isupper():
            sounds_like_a_vowel = first[0] in _LETTERS_NAMED_WITH_A_VOWEL
        else:
            first = first[0].lower() + first[1:]
            sounds_like_a_vowel = first[0] in "aeiou"
        return f"{'an' if sounds_like_a_vowel else 'a'} {' '.join(filter(None, (first, rest)))}"

    def outcome_words(self, outcome: str) -> str:
        return dict(self.outcomes).get(outcome, outcome.replace("_", " "))

    def length_problem(self, start_at: datetime, end_at: datetime) -> str | None:
        """Why a trial of this therapy cannot run from `start_at` to `end_at` (`end_at`'s error); None when it can."""
        if end_at <= start_at:
            return "Must be after the start."
        if end_at - start_at > self.max_length:
            return f"Must be at most {_length_words(self.max_length)} after the start for {self.in_a_sentence}."
        return None

    def decision_words(self, decision: str) -> str:
        """The decision as every clinician-facing surface says it for this therapy (the console's form and page, the
        report, FHIR, the emails)."""
        return dict(self.decisions)[decision]

    def decision_choices(self) -> str:
        """The three decisions in one phrase, for a message that asks for one: "a, b or c"."""
        words = [w[0].lower() + w[1:] for _, w in self.decisions]
        return f"{', '.join(words[:-1])} or {words[-1]}"

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
                "max_length_hours": self.max_length // timedelta(hours=1),
                "criteria": list(self.criteria), "parameters": parameters}


def _length_words(length: timedelta) -> str:
    return f"{length.days} days" if length.days else f"{length.seconds // 3600} hours"


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


def _block(name: str, title: str, short: str, min_relief_percent: float, *, levels_required: bool,
           patient_title: str) -> Therapy:
    return Therapy(
        name=name, title=title, short=short, bucket="entry", parameters=blocks.PARAMETERS,
        max_length=HOURS_OF_BLOCK,
        defaults={"bucket": "entry", "min_relief_percent": min_relief_percent, "min_relief_hours": None,
                  "onset_window_minutes": 60, "min_timepoints": 4, "relief_measure": "score"},
        defaults_by_agent={"min_relief_hours": blocks.RELIEF_HOURS_BY_AGENT},
        evaluate=blocks.evaluate, criteria=BLOCK_CRITERIA, safety_rules=BLOCK_SAFETY_RULES,
        outcomes=BLOCK_OUTCOMES, decisions=BLOCK_DECISIONS, decision_question="Decision after the diagnostic block",
        charts=("relief",),
        is_block=True, levels_required=levels_required, form=forms.BLOCK_TIMEPOINTS,
        patient_title=patient_title, late_after=timedelta(hours=2),
    )


REGISTRY: dict[str, Therapy] = {
    therapy.name: therapy for therapy in (
        Therapy(name="scs", title="Spinal cord stimulator (SCS) trial", short="SCS trial", bucket="day",
                parameters=trial_rules.PARAMETERS, max_length=WEEKS_OF_TRIAL, defaults=_SCS_DEFAULTS,
                evaluate=trial_rules.evaluate,
                criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES,
                decisions=implant_decisions("spinal cord stimulator"),
                patient_title=forms.N_("Spinal cord stimulator trial")),
        Therapy(name="intrathecal", title="Intrathecal drug delivery trial", short="Intrathecal trial",
                bucket="hour", parameters=trial_rules.PARAMETERS, max_length=WEEKS_OF_TRIAL,
                defaults=_INTRATHECAL_DEFAULTS,
                evaluate=trial_rules.evaluate, criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES,
                decisions=implant_decisions("intrathecal pump"), form=forms.HOURLY_INTRATHECAL,
                charts=("pain", "mme", "sedation"),
                patient_title=forms.N_("Pain pump trial"),
                late_after=timedelta(hours=2)),
        # PNS: a temporary percutaneous lead, every default and rule of SCS (docs/blocks.md "New therapies").
        Therapy(name="pns", title="Peripheral nerve stimulation (PNS) trial", short="PNS trial", bucket="day",
                parameters=trial_rules.PARAMETERS, max_length=PNS_TRIAL, defaults=_SCS_DEFAULTS,
                evaluate=trial_rules.evaluate,
                criteria=TRIAL_CRITERIA, safety_rules=ALL_SAFETY_RULES,
                decisions=implant_decisions("peripheral nerve stimulator"),
                patient_title=forms.N_("Nerve stimulator trial")),
        _block("medial_branch_block", "Diagnostic medial branch block", "Medial branch block", 80,
               levels_required=True, patient_title=forms.N_("Nerve block (medial branch)")),
        _block("sacroiliac_block", "Diagnostic sacroiliac joint injection", "Sacroiliac block", 75,
               levels_required=False, patient_title=forms.N_("Sacroiliac joint injection")),
        _block("nerve_root_block", "Diagnostic selective nerve root block", "Nerve root block", 50,
               levels_required=True, patient_title=forms.N_("Nerve root block")),
    )
}
THERAPIES = tuple(REGISTRY)
BLOCK_THERAPIES = tuple(name for name, t in REGISTRY.items() if t.is_block)
BUCKETS = tuple(dict.fromkeys(t.bucket for t in REGISTRY.values()))  # day, hour, entry
CRITERIA = tuple(dict.fromkeys(c for t in REGISTRY.values() for c in t.criteria))


def therapy(name: str) -> Therapy:
    return REGISTRY[name]


def evaluate(trial: TrialFacts, entries: list[Entry], now: datetime) -> Result:
    """The therapy's own evaluation of its trial as of `now`, judging the therapy's criteria, with the timeliness of
    its entries beside the therapy's metrics (it never changes the outcome)."""
    row = REGISTRY[trial.therapy]
    result = row.evaluate(trial, entries, now, row.criteria)
    timely = timeliness(((e.recorded_at, e.received_at) for e in entries), row.late_after)
    return replace(result, metrics={**result.metrics, **timely})
