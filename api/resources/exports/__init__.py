"""The export resources: report, FHIR, CSV."""
