"""Protocol thresholds per therapy, as data, and validation of per-trial overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THERAPIES = ("scs", "intrathecal")
BUCKETS = ("day", "hour")


@dataclass(frozen=True)
class Parameter:
    kind: type  # bool, int, float (a float parameter accepts ints too) or str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this parameter, or None."""
        if self.kind is bool:
            return None if isinstance(value, bool) else "Must be true or false."
        if self.kind is str:
            return None if value in self.choices else f"Must be one of: {', '.join(self.choices)}."
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "Must be a number." if self.kind is float else "Must be a whole number."
        if self.kind is int and not float(value).is_integer():
            return "Must be a whole number."
        if value != value or value in (float("inf"), float("-inf")):
            return "Must be a finite number."
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return f"Must be between {self.low:g} and {self.high:g}."
        return None


PARAMETERS: dict[str, Parameter] = {
    "bucket": Parameter(str, choices=BUCKETS),
    "exclude_first_buckets": Parameter(int, 0, 1000),
    "min_pain_relief_percent": Parameter(float, 0, 100),
    "require_function": Parameter(bool),
    "min_odi_improvement": Parameter(float, 0, 100),
    "min_interference_improvement": Parameter(float, 0, 10),
    "require_stable_analgesics": Parameter(bool),
    "max_mme_increase_percent": Parameter(float, 0, 1000),
    "require_acceptable_side_effects": Parameter(bool),
    "max_sedation_score": Parameter(int, 1, 4),
    "require_pgic": Parameter(bool),
    "max_pgic": Parameter(int, 1, 7),
    "min_data_buckets": Parameter(int, 0, 10000),
    "min_compliance": Parameter(float, 0, 1),
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "scs": {
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
    },
    "intrathecal": {
        "bucket": "hour",
        "exclude_first_buckets": 1,
        "min_pain_relief_percent": 50,
        "require_function": False,
        "min_odi_improvement": 10,
        "min_interference_improvement": 1.0,
        "require_stable_analgesics": False,
        "max_mme_increase_percent": 0,
        "require_acceptable_side_effects": True,
        "max_sedation_score": 2,
        "require_pgic": False,
        "max_pgic": 3,
        "min_data_buckets": 4,
        "min_compliance": 0.5,
    },
}


def override_problems(overrides: Any) -> dict[str, str]:
    """Field-by-field reasons why `overrides` cannot be applied; empty when they can."""
    if not isinstance(overrides, dict):
        return {"_schema": "Must be an object of protocol parameters."}
    problems = {}
    for key, value in overrides.items():
        parameter = PARAMETERS.get(key)
        if parameter is None:
            problems[key] = "Unknown protocol parameter."
        elif (problem := parameter.problem(value)) is not None:
            problems[key] = problem
    return problems


def effective_protocol(therapy: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The therapy's defaults with the trial's (already validated) overrides applied."""
    protocol = dict(DEFAULTS[therapy])
    protocol.update(overrides or {})
    return protocol
