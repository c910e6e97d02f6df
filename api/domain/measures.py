"""What the patient recorded beyond the evaluation's figures, summarised per trial: worst and least pain, sleep,
steps, the stimulation's coverage and the patient's satisfaction with it, the patient's own relief estimate, the
sedation score. The trial page and the report both read these summaries from here (one computation).

Only the measures the therapy's diary asks (its form, domain/forms.py) are summarised: an intrathecal trial has
no stimulation to rate, a block no sleep to count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import fmean, median
from typing import Any

from .therapies import REGISTRY


@dataclass(frozen=True)
class Measure:
    path: str  # where the entry holds it ("pain.worst_24h"), as the diary form names it
    title: str  # in a clinician's words
    unit: str  # after a figure: "/10", "%", "h", "steps", "" (the scale is in the title)
    highest: bool = False  # the highest value matters (a safety measure), beside the median


MEASURES = (
    Measure("pain.worst_24h", "Worst pain in the last 24 hours (NRS)", "/10"),
    Measure("pain.least_24h", "Least pain in the last 24 hours (NRS)", "/10"),
    Measure("pain.relief_percent", "Patient's own estimate of relief", "%"),
    Measure("stimulation.coverage_percent", "Stimulation coverage of the painful area", "%"),
    Measure("stimulation.satisfaction", "Satisfaction with the stimulation (0-10)", "/10"),
    Measure("function.sleep_hours", "Sleep", "h"),
    Measure("function.steps", "Steps a day", "steps"),
    Measure("sedation_score", "Sedation score (Pasero, 1-4)", "", highest=True),
)


@dataclass(frozen=True)
class Summary:
    measure: Measure
    count: int  # entries that recorded it
    mean: float | None
    median: float | None
    low: float | None
    high: float | None


def asked(therapy: str, protocol: Mapping[str, Any] | None = None) -> tuple[Measure, ...]:
    """The measures the therapy's diary asks, in report order. A block's own relief estimate is asked only when its
    protocol measures relief that way."""
    fields = {f.path: f for f in REGISTRY[therapy].form.fields}
    chosen = []
    for measure in MEASURES:
        field = fields.get(measure.path)
        if field is None:
            continue
        if field.shown == "reported_relief" and (protocol or {}).get("relief_measure") != "reported":
            continue
        chosen.append(measure)
    return tuple(chosen)


def summaries(therapy: str, contents: Iterable[Mapping[str, Any]],
              protocol: Mapping[str, Any] | None = None) -> list[Summary]:
    """Each asked measure over the entries' contents (the valid entries: the caller leaves out voided ones)."""
    contents = list(contents)
    made = []
    for measure in asked(therapy, protocol):
        values = [v for c in contents if isinstance(v := _at(c, measure.path), int | float)
                  and not isinstance(v, bool)]
        if not values:
            made.append(Summary(measure, 0, None, None, None, None))
            continue
        made.append(Summary(measure, len(values), fmean(values), median(values), min(values), max(values)))
    return made


def _at(content: Mapping[str, Any], path: str) -> Any:
    value: Any = content
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
