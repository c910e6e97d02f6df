"""Rounding for reports and the tolerance for thresholds."""

from decimal import ROUND_HALF_UP, Decimal

TOLERANCE = 1e-9


def reaches(value: float, threshold: float) -> bool:
    """`value` >= `threshold`, counting a value within TOLERANCE of it as reaching it."""
    return value >= threshold - TOLERANCE


def at_most(value: float, limit: float) -> bool:
    """`value` <= `limit`, counting a value within TOLERANCE of it as within it."""
    return value <= limit + TOLERANCE


def rounded(value: float | None, places: int) -> float | None:
    """Half-up rounding of the shortest decimal form, as a clinician rounds by hand."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def percentile(values: list[float], q: float) -> float | None:
    """The `q`-th percentile (0 to 100) by linear interpolation between the closest ranks (numpy's default; the
    median is the 50th); None of no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
