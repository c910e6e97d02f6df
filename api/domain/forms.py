"""The diary page's forms: which fields a therapy's entry asks for, in the patient's plain words.

A therapy's row in the registry (therapies.py) names its form; a new therapy brings its form by naming one of
these or a new one. Each field is a path into the diary entry (product.md "The diary entry"), so what the page
sends is exactly what the API validates. The words are English message ids, marked with `N_` for the gettext
catalogs and translated at the edge (the diary page); this module stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .mme import ORAL_MG_FACTORS
from .vocabulary import MEDICATION_UNITS, ROUTES


def N_(message: str) -> str:
    """Marks a message id for extraction (pybabel -k N_); translated where it is shown."""
    return message


@dataclass(frozen=True)
class Option:
    value: Any
    words: str


@dataclass(frozen=True)
class Field:
    """One question of the form.

    kind: `scale` (0-10 as a radio group, words at both ends), `choice` (one of `options`), `checklist` (any of
    `options`), `number`, `medications`, `text`. `path` is where the answer goes in the entry ("pain.score").
    `shown`: `always`, `last_day` (from the trial's last day on), or `reported_relief` (when the protocol's
    `relief_measure` is `reported`).
    """

    path: str
    kind: str
    label: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    step: float | None = None
    ends: tuple[str, str] | None = None  # a scale's words at 0 and at 10
    options: tuple[Option, ...] = ()
    hint: str | None = None
    shown: str = "always"
    collapsed: bool = False  # folded behind a question ("Anything new?"): a block's timepoint takes seconds

    def describe(self) -> dict[str, Any]:
        described = {"path": self.path, "kind": self.kind, "label": self.label, "required": self.required,
                     "shown": self.shown}
        for name in ("low", "high", "step", "hint"):
            if (value := getattr(self, name)) is not None:
                described[name] = value
        if self.ends:
            described["ends"] = list(self.ends)
        if self.options:
            described["options"] = [{"value": o.value, "words": o.words} for o in self.options]
        if self.collapsed:
            described["collapsed"] = True
        return described


@dataclass(frozen=True)
class Form:
    """`kind`: daily (one entry a day), hourly, or timepoints (a block's schedule, with its countdown)."""

    kind: str
    fields: tuple[Field, ...] = field(default_factory=tuple)


# Plain words for the symptom vocabulary (safety.md), as a patient would say them.
SYMPTOM_WORDS: dict[str, str] = {
    "fever": N_("Fever (38 °C / 100.4 °F or higher)"),
    "chills": N_("Chills or shivering"),
    "wound_redness": N_("Redness around the wound"),
    "wound_swelling": N_("Swelling around the wound"),
    "wound_drainage": N_("Fluid or pus coming from the wound"),
    "dressing_off": N_("The dressing came off"),
    "lead_dislodged": N_("The wire seems to have moved or come out"),
    "loss_of_stimulation": N_("I no longer feel the stimulation"),
    "uncomfortable_stimulation": N_("The stimulation is uncomfortable"),
    "positional_headache": N_("Headache that gets worse when I sit or stand up"),
    "clear_fluid_leak": N_("Clear fluid leaking from the wound"),
    "neck_stiffness": N_("Stiff neck"),
    "new_weakness": N_("New weakness in my legs or arms"),
    "new_numbness": N_("New numbness in my legs, arms or groin"),
    "bladder_bowel_change": N_("I cannot control my bladder or bowels"),
    "urinary_retention": N_("I cannot pass urine"),
    "respiratory_depression": N_("Slow or shallow breathing, hard to breathe"),
    "excessive_sleepiness": N_("Very sleepy, hard to stay awake"),
    "nausea": N_("Feeling sick to my stomach"),
    "vomiting": N_("Vomiting"),
    "itching": N_("Itching"),
    "leg_swelling": N_("Swollen legs or ankles"),
    "other": N_("Something else"),
}
STIMULATION_ONLY = ("dressing_off", "lead_dislodged", "loss_of_stimulation", "uncomfortable_stimulation")
# After a block: no lead, no stimulation, and opioid side effects mean nothing (therapies.BLOCK_SAFETY_RULES).
BLOCK_SYMPTOMS = ("new_weakness", "new_numbness", "bladder_bowel_change", "urinary_retention",
                  "respiratory_depression", "fever", "positional_headache", "clear_fluid_leak", "neck_stiffness",
                  "wound_redness", "wound_swelling", "wound_drainage", "other")

PAIN_ENDS = (N_("No pain"), N_("Worst pain you can imagine"))


def _symptoms(names, *, collapsed: bool = False) -> Field:
    return Field("symptoms", "checklist", N_("Do you have any of these?"),
                 options=tuple(Option(name, SYMPTOM_WORDS[name]) for name in names), collapsed=collapsed,
                 hint=N_("Tick all that apply. Leave empty if none."))


PAIN_NOW = Field("pain.score", "scale", N_("How bad is your pain right now?"), required=True, low=0, high=10,
                 ends=PAIN_ENDS)
PGIC_WORDS = (N_("Very much improved"), N_("Much improved"), N_("A little improved"), N_("No change"),
              N_("A little worse"), N_("Much worse"), N_("Very much worse"))
# The Pasero Opioid-induced Sedation Scale, 1-4, in words a family member can use too.
SEDATION_WORDS = (N_("Awake and alert"), N_("A little drowsy, but easy to wake"),
                  N_("Often drowsy, drifts off to sleep while talking"),
                  N_("Very hard to wake, even when shaken"))
COVERAGE_WORDS = ((0, N_("None of it")), (25, N_("About a quarter")), (50, N_("About half")),
                  (75, N_("About three quarters")), (100, N_("All of it")))

DAILY_STIMULATION = Form("daily", (
    PAIN_NOW,
    Field("pain.worst_24h", "scale", N_("Your worst pain in the last 24 hours"), low=0, high=10, ends=PAIN_ENDS),
    Field("pain.least_24h", "scale", N_("Your least pain in the last 24 hours"), low=0, high=10, ends=PAIN_ENDS),
    Field("function.interference", "scale", N_("How much did pain get in the way of your daily activities?"),
          low=0, high=10, ends=(N_("Not at all"), N_("Completely"))),
    Field("function.sleep_hours", "number", N_("How many hours did you sleep last night?"), low=0, high=24,
          step=0.5),
    Field("function.steps", "number", N_("Steps today (from your phone or watch), if you know"), low=0,
          high=200_000, step=1),
    Field("medications", "medications", N_("Pain medicines you took today"),
          hint=N_("Tap a medicine you took before to add it again, or add a new one.")),
    _symptoms(SYMPTOM_WORDS),
    Field("stimulation.coverage_percent", "choice", N_("How much of your painful area does the stimulation cover?"),
          options=tuple(Option(value, words) for value, words in COVERAGE_WORDS)),
    Field("stimulation.satisfaction", "scale", N_("How satisfied are you with the stimulation?"), low=0, high=10,
          ends=(N_("Not at all satisfied"), N_("Completely satisfied"))),
    Field("pgic", "choice", N_("Since the trial started, how has your pain and daily life changed?"),
          options=tuple(Option(i + 1, words) for i, words in enumerate(PGIC_WORDS)), shown="last_day"),
    Field("note", "text", N_("Anything else you want your care team to know?"), high=2000),
))
HOURLY_INTRATHECAL = Form("hourly", (
    PAIN_NOW,
    Field("sedation_score", "choice", N_("How awake are you?"),
          options=tuple(Option(i + 1, words) for i, words in enumerate(SEDATION_WORDS)),
          hint=N_("A family member may answer for you.")),
    _symptoms(name for name in SYMPTOM_WORDS if name not in STIMULATION_ONLY),
))
BLOCK_TIMEPOINTS = Form("timepoints", (
    PAIN_NOW,
    Field("pain.relief_percent", "number", N_("How much of your usual pain has gone away, in percent?"), low=0,
          high=100, step=5, shown="reported_relief", hint=N_("0 means none of it, 100 means all of it.")),
    _symptoms(BLOCK_SYMPTOMS, collapsed=True),
))

# What the medicine picker offers: the generic names the MME table knows, then free text.
MEDICINE_NAMES = tuple(sorted(ORAL_MG_FACTORS) + ["fentanyl"])
MEDICINE_UNITS = MEDICATION_UNITS
MEDICINE_ROUTES = ROUTES
