"""The trial as FHIR R4 (4.0.1): the Bundle (bundle.py), the diary's resources (diary.py), stable identity
(identity.py) and the codes, with the project's own code systems published as CodeSystem resources (terms.py).
docs/payer-packet.md describes what an EHR receives."""

from .bundle import BUNDLE_TYPES, CONTENT_TYPE, bundle
from .terms import CODE_SYSTEMS, code_system, fhir_base

__all__ = ["BUNDLE_TYPES", "CODE_SYSTEMS", "CONTENT_TYPE", "bundle", "code_system", "fhir_base"]
