"""The console's pages, one module per page group; importing them declares their views on the blueprint."""

from . import (  # noqa: F401
    admin,
    clinic_settings,
    documentation,
    expected_findings,
    patients,
    pipeline,
    session,
    trial,
    trial_forms,
    worklist,
)
