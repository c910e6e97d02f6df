"""Morphine milligram equivalents with the CDC 2022 conversion factors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Oral mg -> MME. Fentanyl is absent on purpose: only its patch rate converts (FENTANYL_PATCH_FACTOR).
ORAL_MG_FACTORS: dict[str, float] = {
    "codeine": 0.15,
    "hydrocodone": 1,
    "hydromorphone": 5,
    "methadone": 4.7,
    "morphine": 1,
    "oxycodone": 1.5,
    "oxymorphone": 3,
    "tapentadol": 0.4,
    "tramadol": 0.2,
}
FENTANYL_PATCH_FACTOR = 2.4  # per mcg/h of a transdermal patch

# Opioids that have no CDC 2022 factor here: reported as unconverted, never silently counted as 0.
OTHER_OPIOIDS = frozenset(
    {
        "fentanyl", "buprenorphine", "meperidine", "pethidine", "levorphanol", "sufentanil",
        "remifentanil", "alfentanil", "butorphanol", "nalbuphine", "pentazocine", "dihydrocodeine",
        "opium", "diamorphine", "heroin", "propoxyphene", "dextropropoxyphene", "oliceridine",
        "tilidine", "benzhydrocodone", "levomethadone", "dezocine", "ketobemidone", "piritramide",
        "nicomorphine", "dextromoramide", "dipipanone", "oxycodone/naloxone",
    }
)
TRIAL_DRUG_ROUTES = frozenset({"intrathecal", "epidural"})


@dataclass(frozen=True)
class Medication:
    name: str
    dose: float
    unit: str
    route: str | None = None


def normalised(name: str) -> str:
    return name.strip().lower()


def is_opioid(name: str) -> bool:
    key = normalised(name)
    return key in ORAL_MG_FACTORS or key in OTHER_OPIOIDS


@dataclass(frozen=True)
class DailyMME:
    mme: float
    unconverted: frozenset[str]


def daily_mme(medication_lists: Iterable[Iterable[Medication]]) -> DailyMME:
    """One day's MME from the medication lists of that day's valid entries."""
    total = 0.0
    patch_rate = 0.0
    unconverted: set[str] = set()
    for medications in medication_lists:
        for medication in medications:
            name = normalised(medication.name)
            route = normalised(medication.route) if medication.route else None
            if route in TRIAL_DRUG_ROUTES:
                continue
            if name == "fentanyl" and route == "transdermal" and medication.unit == "mcg/h":
                patch_rate = max(patch_rate, medication.dose)
            elif name in ORAL_MG_FACTORS and route in (None, "oral") and medication.unit == "mg":
                total += medication.dose * ORAL_MG_FACTORS[name]
            elif is_opioid(name):
                unconverted.add(name)
    return DailyMME(total + patch_rate * FENTANYL_PATCH_FACTOR, frozenset(unconverted))
