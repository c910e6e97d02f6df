"""Protocol thresholds per therapy, as data, and validation of per-trial overrides (the registry's rows)."""

from __future__ import annotations

from typing import Any

from .parameters import Parameter
from .therapies import REGISTRY, THERAPIES
from .trial_rules import PARAMETERS

__all__ = ["DEFAULTS", "PARAMETERS", "THERAPIES", "Parameter", "effective_protocol", "override_problems"]

DEFAULTS: dict[str, dict[str, Any]] = {name: therapy.defaults for name, therapy in REGISTRY.items()}


def override_problems(overrides: Any, therapy: str = "scs") -> dict[str, str]:
    """Field-by-field reasons why `overrides` cannot be applied to `therapy`; empty when they can."""
    return REGISTRY[therapy].override_problems(overrides)


def effective_protocol(therapy: str, overrides: dict[str, Any] | None = None,
                       agent: str | None = None) -> dict[str, Any]:
    """The therapy's defaults (resolved for the block's agent) with the trial's validated overrides applied."""
    return REGISTRY[therapy].effective_protocol(overrides, agent)
