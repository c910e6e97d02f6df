"""A protocol parameter: its type and range, as data (published by GET /protocols, checked on overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = {bool: "boolean", int: "integer", float: "number", str: "string"}  # in JSON terms


@dataclass(frozen=True)
class Parameter:
    kind: type  # bool, int, float (a float parameter accepts ints too) or str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

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

    def describe(self) -> dict[str, Any]:
        """Type and range in JSON terms, for the published protocol document."""
        described: dict[str, Any] = {"type": KINDS[self.kind]}
        if self.low is not None:
            described["minimum"] = self.low
        if self.high is not None:
            described["maximum"] = self.high
        if self.choices:
            described["choices"] = list(self.choices)
        if self.description:
            described["description"] = self.description
        return described
