"""The readiness checklist: which items of pre-trial documentation a payer will ask for are missing.

The requirements are data, with defaults per therapy that a clinic may override (stored per clinic and
therapy, edited by its admin): coverage policies change and payers differ. Sources of the defaults:
Medicare LCD L37632 and NCD 160.7 (SCS: failure of conservative treatment, psychological evaluation, no
active substance use disorder, imaging), EviCore CMM-211 (6 months of conservative care), NCD 280.14
(intrathecal pumps: the same evidence, and a life expectancy of at least 3 months). See docs/payer-packet.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .documentation import MODALITIES, SCREENING_RESULTS, cpt_or_hcpcs, months_of

SCS_SOURCES = ("LCD L37632", "NCD 160.7", "EviCore CMM-211")
PUMP_SOURCES = ("NCD 280.14", "LCD L37632", "EviCore CMM-211")

DEFAULTS: dict[str, dict[str, Any]] = {
    "scs": {
        "require_indication_code": True,
        "require_procedure_code": True,
        # 63650: percutaneous implantation of a neurostimulator electrode array, epidural (the trial lead);
        # 63655: by laminectomy (a paddle trial, rare).
        "procedure_codes": ["63650", "63655"],
        "min_conservative_treatment_months": 6,
        "require_psychological_clearance": True,
        "require_substance_use_screening": True,
        "require_imaging": True,
        "min_life_expectancy_months": 0,
    },
    "intrathecal": {
        "require_indication_code": True,
        "require_procedure_code": True,
        # 62350: tunnelled intrathecal catheter for a trial infusion; 62322-62327: single-shot or catheter
        # injection (with or without imaging) for a bolus trial.
        "procedure_codes": ["62350", "62322", "62323", "62324", "62325", "62326", "62327"],
        "min_conservative_treatment_months": 6,
        "require_psychological_clearance": True,
        "require_substance_use_screening": True,
        "require_imaging": True,
        "min_life_expectancy_months": 3,
    },
}
# A therapy without defaults of its own (one added later) is asked for its codes only until a clinic says more.
GENERIC: dict[str, Any] = {
    "require_indication_code": True, "require_procedure_code": True, "procedure_codes": [],
    "min_conservative_treatment_months": 0, "require_psychological_clearance": False,
    "require_substance_use_screening": False, "require_imaging": False, "min_life_expectancy_months": 0,
}
SOURCES = {"scs": SCS_SOURCES, "intrathecal": PUMP_SOURCES}
# The largest value of each numeric requirement, and of the list of procedure codes.
MAXIMA = {"min_conservative_treatment_months": 120, "min_life_expectancy_months": 1200}
MAX_PROCEDURE_CODES = 50
ITEM_STATUSES = ("documented", "missing", "not_met")  # an Item's status

LABELS = {
    "indication": "Indication (ICD-10-CM diagnosis code)",
    "procedure": "Trial procedure (CPT/HCPCS code)",
    "conservative_treatment": "Failed conservative treatment",
    "psychological_evaluation": "Psychological evaluation",
    "substance_use_screening": "Substance use screening",
    "imaging": "Imaging",
    "life_expectancy": "Life expectancy",
}
ITEMS = tuple(LABELS)


@dataclass(frozen=True)
class Item:
    """One line of the checklist; a detail listing several things (codes, treatments) separates them with "; "."""

    key: str
    label: str
    status: str  # "documented", "missing" (nothing recorded) or "not_met" (recorded, but short of the requirement)
    detail: str  # what the record shows, or that it shows nothing, in a sentence
    gap: str | None = None  # what a payer will find missing, in a short sentence; None when documented

    def as_dict(self) -> dict[str, str | None]:
        return {"key": self.key, "label": self.label, "status": self.status, "detail": self.detail, "gap": self.gap}


def requirement_problems(overrides: Any) -> dict[str, str]:
    """Field-by-field reasons why `overrides` cannot be applied to the requirements; empty when they can."""
    if not isinstance(overrides, dict):
        return {"_schema": "Must be an object of readiness requirements."}
    problems = {}
    for key, value in overrides.items():
        if key not in GENERIC:
            problems[key] = "Unknown readiness requirement."
        elif key.startswith("require_"):
            if not isinstance(value, bool):
                problems[key] = "Must be true or false."
        elif key == "procedure_codes":
            if not isinstance(value, list) or len(value) > MAX_PROCEDURE_CODES:
                problems[key] = f"Must be a list of at most {MAX_PROCEDURE_CODES} CPT/HCPCS codes."
            elif bad := [c for c in value if not isinstance(c, str) or cpt_or_hcpcs(c) is None]:
                problems[key] = f"Not CPT/HCPCS codes (5 digits, or a letter and 4 digits): {', '.join(map(str, bad))}."
        elif isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            problems[key] = "Must be a number."
        elif not 0 <= value <= MAXIMA[key]:
            problems[key] = f"Must be between 0 and {MAXIMA[key]}."
    return problems


def effective_requirements(therapy: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The therapy's defaults with the clinic's (already validated) overrides applied."""
    requirements = dict(DEFAULTS.get(therapy, GENERIC))
    requirements.update(overrides or {})
    if "procedure_codes" in requirements:
        requirements["procedure_codes"] = [cpt_or_hcpcs(c) for c in requirements["procedure_codes"]]
    return requirements


def checklist(therapy: str, documentation: dict[str, Any], requirements: dict[str, Any]) -> list[Item]:
    """The items `requirements` asks for, each documented, missing or not met by `documentation`."""
    doc = documentation or {}
    items = []
    if requirements["require_indication_code"]:
        items.append(_indication(doc.get("indications") or []))
    if requirements["require_procedure_code"]:
        items.append(_procedure(doc.get("procedures") or [], requirements["procedure_codes"]))
    if requirements["min_conservative_treatment_months"] > 0:
        items.append(_conservative(doc.get("conservative_treatments") or [],
                                   requirements["min_conservative_treatment_months"]))
    if requirements["require_psychological_clearance"]:
        items.append(_psychological(doc.get("psychological_evaluation")))
    if requirements["require_substance_use_screening"]:
        items.append(_substance(doc.get("substance_use_screening")))
    if requirements["require_imaging"]:
        items.append(_imaging(doc.get("imaging") or []))
    if requirements["min_life_expectancy_months"] > 0:
        items.append(_life_expectancy(doc.get("life_expectancy_months"), requirements["min_life_expectancy_months"]))
    return items


def readiness(therapy: str, documentation: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The checklist with its verdict: ready when every item asked for is documented."""
    requirements = effective_requirements(therapy, overrides)
    items = checklist(therapy, documentation, requirements)
    return {
        "therapy": therapy,
        "ready": all(i.status == "documented" for i in items),
        "items": [i.as_dict() for i in items],
        "missing": [i.gap for i in items if i.status != "documented"],
        "requirements": requirements,
        "sources": list(SOURCES.get(therapy, ())),
    }


def described(documentation: dict[str, Any]) -> list[Item]:
    """Every part of `documentation` that holds something, in the checklist's words, whatever is required."""
    everything = {**GENERIC, "require_psychological_clearance": True, "require_substance_use_screening": True,
                  "require_imaging": True, "min_conservative_treatment_months": 1e-9,
                  "min_life_expectancy_months": 1e-9}
    return [i for i in checklist("", documentation, everything) if i.status != "missing"]


def _indication(indications: list[dict]) -> Item:
    if not indications:
        return _missing("indication", "No ICD-10-CM diagnosis code for the indication.")
    return Item("indication", LABELS["indication"], "documented", "; ".join(_coded(i) for i in indications) + ".")


def _procedure(procedures: list[dict], expected: list[str]) -> Item:
    label = LABELS["procedure"]
    if not procedures:
        return _missing("procedure", "No CPT/HCPCS code for the trial procedure.")
    found = "; ".join(_coded(p) for p in procedures)
    if expected and not any(p["code"] in expected for p in procedures):
        gap = (f"Trial procedure coded {', '.join(p['code'] for p in procedures)}: none of the codes this clinic "
               f"expects for the trial ({', '.join(expected)}).")
        return Item("procedure", label, "not_met", f"{found}.", gap)
    return Item("procedure", label, "documented", found + ".")


def _conservative(treatments: list[dict], months: float) -> Item:
    label = LABELS["conservative_treatment"]
    asked = f"at least {_n(months)} months"
    if not treatments:
        return _missing("conservative_treatment", f"No conservative treatment documented ({asked}).")
    # Durations come without dates and may overlap (physical therapy while on medication): the longest
    # single course is what the record proves, not their sum.
    longest = max(months_of(t["duration"], t["unit"]) for t in treatments)
    tried = "; ".join(f"{t['treatment']} for {_n(t['duration'])} {t['unit']}" for t in treatments)
    if longest + 1e-9 < months:
        return Item("conservative_treatment", label, "not_met", f"{tried}.",
                    f"Conservative treatment: the longest course documented is {_n(round(longest, 1))} months "
                    f"({asked} asked).")
    return Item("conservative_treatment", label, "documented", f"{tried}.")


def _psychological(evaluation: dict | None) -> Item:
    label = LABELS["psychological_evaluation"]
    if not evaluation:
        return _missing("psychological_evaluation", "No psychological evaluation documented.")
    seen = f"by {evaluation['clinician']} on {evaluation['date']}"
    if not evaluation["cleared"]:
        said = f"Evaluated {seen}: not cleared for the implant."
        return Item("psychological_evaluation", label, "not_met", said,
                    f"Psychological evaluation {seen}: not cleared for the implant.")
    return Item("psychological_evaluation", label, "documented", f"Cleared {seen}.")


def _substance(screening: dict | None) -> Item:
    label = LABELS["substance_use_screening"]
    if not screening:
        return _missing("substance_use_screening", "No substance use screening documented.")
    found = f"Screened on {screening['date']}: {SCREENING_RESULTS[screening['result']]}"
    if screening["result"] == "active":
        return Item("substance_use_screening", label, "not_met", f"{found}.", f"Substance use: {found[0].lower()}"
                                                                                f"{found[1:]}.")
    return Item("substance_use_screening", label, "documented", f"{found}.")


def _imaging(studies: list[dict]) -> Item:
    if not studies:
        return _missing("imaging", "No imaging documented.")
    found = "; ".join(f"{MODALITIES[s['modality']]}{' of the ' + s['region'] if s.get('region') else ''} on "
                      f"{s['date']}" for s in studies)
    return Item("imaging", LABELS["imaging"], "documented", f"{found}.")


def _life_expectancy(months: float | None, asked: float) -> Item:
    label = LABELS["life_expectancy"]
    if months is None:
        return _missing("life_expectancy", f"No life expectancy documented (at least {_n(asked)} months asked).")
    if months + 1e-9 < asked:
        said = f"Estimated at {_n(months)} months (at least {_n(asked)} months asked)."
        return Item("life_expectancy", label, "not_met", said, f"Life expectancy: {said[0].lower()}{said[1:]}")
    return Item("life_expectancy", label, "documented", f"Estimated at {_n(months)} months.")


def _missing(key: str, sentence: str) -> Item:
    return Item(key, LABELS[key], "missing", sentence, sentence)


def _coded(item: dict) -> str:
    return f"{item['code']} ({item['description']})" if item.get("description") else item["code"]


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
