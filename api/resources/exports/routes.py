"""The trial report (PDF), the FHIR Bundle and the CSV of entries."""

import json

from flask import Response
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from ...exports import csv, fhir, pdf
from ...extensions import Blueprint
from ...extensions.openapi import BINARY, TEXT, Out, one_of, optional
from ...services.access import CARE, actor, requires
from ...services.exports import trial_record

blp = Blueprint("exports", __name__, url_prefix="/api/v1/trials", description="Reports and exports (care team).")


class FhirResourceOut(Out):
    class Meta:
        unknown = EXCLUDE  # its other elements are FHIR's to document
        description = ("A FHIR R4 resource (Patient, Observation, Procedure, DiagnosticReport...) with the elements "
                       "FHIR R4 defines for its resourceType: https://hl7.org/fhir/R4/resourcelist.html")

    resourceType = fields.String()  # noqa: N815 (FHIR's name)


class FhirRequestOut(Out):
    method = one_of(["POST", "PUT"])
    url = fields.String(metadata={"description": "Type?identifier=system|value (a conditional update), Type "
                                                "(with ifNoneExist: a conditional create) or Provenance/{id}"})
    ifNoneExist = optional(fields.String())  # noqa: N815 (FHIR's name)


class FhirEntryOut(Out):
    fullUrl = fields.String()  # noqa: N815 (FHIR's name)
    resource = fields.Nested(FhirResourceOut)
    request = optional(fields.Nested(FhirRequestOut, metadata={"description": "In a transaction only."}))


class FhirBundleOut(Out):
    class Meta:
        unknown = EXCLUDE
        description = ("A FHIR R4 (4.0.1) Bundle: https://hl7.org/fhir/R4/bundle.html. Its resources claim US Core "
                       "6.1.0 profiles where one fits (meta.profile).")

    resourceType = one_of(["Bundle"])  # noqa: N815 (FHIR's name)
    type = one_of(fhir.BUNDLE_TYPES)
    timestamp = optional(fields.DateTime())
    entry = fields.List(fields.Nested(FhirEntryOut))


class FhirQuery(Schema):
    type = fields.String(load_default="collection", validate=validate.OneOf(fhir.BUNDLE_TYPES), metadata={
        "description": "collection (the default): the trial's resources; document: a Composition first, the "
                       "packet as one clinical document; transaction: conditional requests by identifier, to "
                       "post to a FHIR server."})


@blp.route("/<int:trial_id>/report.pdf")
class Report(MethodView):
    @requires(*CARE)
    @blp.response(200, BINARY, content_type="application/pdf", description="The report")
    def get(self, trial_id):
        """The trial report for the chart and the payer"""
        record = trial_record(user=actor(), trial_id=trial_id, action="report.read")
        return Response(pdf.render(record), mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="trial-{trial_id}-report.pdf"', "Cache-Control": "no-store"})


@blp.route("/<int:trial_id>/fhir")
class Fhir(MethodView):
    @requires(*CARE)
    @blp.arguments(FhirQuery, location="query")
    @blp.response(200, FhirBundleOut, content_type=fhir.CONTENT_TYPE, description="A FHIR R4 (4.0.1) Bundle")
    def get(self, query, trial_id):
        """The trial's data as a FHIR R4 Bundle (collection, document or transaction)"""
        record = trial_record(user=actor(), trial_id=trial_id, action="fhir.export")
        return Response(json.dumps(fhir.bundle(record, query["type"])), content_type=fhir.CONTENT_TYPE,
                        headers={"Cache-Control": "no-store"})


@blp.route("/<int:trial_id>/entries.csv")
class EntriesCsv(MethodView):
    @requires(*CARE)
    @blp.response(200, TEXT, content_type="text/csv", description="Entries as CSV")
    def get(self, trial_id):
        """The trial's entries as CSV"""
        record = trial_record(user=actor(), trial_id=trial_id, action="entries.export")
        return Response(csv.entries_csv(record), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="trial-{trial_id}-entries.csv"', "Cache-Control": "no-store"})
