"""The trial report (PDF), the FHIR Bundle and the CSV of entries."""

import json

from flask import Response
from flask.views import MethodView

from ...exports import csv, fhir, pdf
from ...extensions import Blueprint
from ...services.access import CARE, actor, requires
from ...services.exports import trial_record

blp = Blueprint("exports", __name__, url_prefix="/api/v1/trials", description="Reports and exports (care team).")


@blp.route("/<int:trial_id>/report.pdf")
class Report(MethodView):
    @requires(*CARE)
    @blp.doc(responses={"200": {"description": "The report", "content": {"application/pdf": {}}}})
    def get(self, trial_id):
        """The trial report for the chart and the payer"""
        record = trial_record(user=actor(), trial_id=trial_id, action="report.read")
        return Response(pdf.render(record), mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="trial-{trial_id}-report.pdf"', "Cache-Control": "no-store"})


@blp.route("/<int:trial_id>/fhir")
class Fhir(MethodView):
    @requires(*CARE)
    @blp.doc(responses={"200": {"description": "A FHIR Bundle", "content": {"application/fhir+json": {}}}})
    def get(self, trial_id):
        """The trial's data as a FHIR R4 Bundle (collection)"""
        record = trial_record(user=actor(), trial_id=trial_id, action="fhir.export")
        return Response(json.dumps(fhir.bundle(record)), mimetype="application/fhir+json",
                        headers={"Cache-Control": "no-store"})


@blp.route("/<int:trial_id>/entries.csv")
class EntriesCsv(MethodView):
    @requires(*CARE)
    @blp.doc(responses={"200": {"description": "Entries as CSV", "content": {"text/csv": {}}}})
    def get(self, trial_id):
        """The trial's entries as CSV"""
        record = trial_record(user=actor(), trial_id=trial_id, action="entries.export")
        return Response(csv.entries_csv(record), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="trial-{trial_id}-entries.csv"', "Cache-Control": "no-store"})
