"""The physician's implant decision, signed."""

from flask import Response
from flask.views import MethodView

from ...extensions import Blueprint
from ...extensions.openapi import BINARY
from ...services import decisions
from ...services.access import CARE, PATIENT, actor, requires
from .schemas import DecisionIn, DecisionOut

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/trials", description="The implant decision.")


@blp.route("/<int:trial_id>/decision")
class Decision(MethodView):
    @requires(PATIENT, *CARE)  # the service: 403 unless a physician of the care team; strangers 404
    @blp.arguments(DecisionIn)
    @blp.response(201, DecisionOut)
    @blp.alt_response(409, description="A decision was recorded already, the trial was cancelled, or the signing "
                                        "physician has no NPI yet.")
    def post(self, data, trial_id):
        """Record and sign the decision (once; it closes the diary; the signer needs an NPI)"""
        return decisions.record_decision(user=actor(), trial_id=trial_id, **data)

    @requires(PATIENT, *CARE)
    @blp.response(200, DecisionOut)
    def get(self, trial_id):
        """The recorded decision"""
        return decisions.get_decision(user=actor(), trial_id=trial_id)


@blp.route("/<int:trial_id>/decision/signed-report.pdf")
class SignedReport(MethodView):
    @requires(*CARE)
    @blp.response(200, BINARY, content_type="application/pdf", description="The signed report")
    def get(self, trial_id):
        """The report exactly as the physician signed it: its SHA-256 is the signature's report_sha256"""
        document, digest = decisions.signed_report(user=actor(), trial_id=trial_id)
        return Response(document, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="trial-{trial_id}-signed-report.pdf"',
            "Cache-Control": "no-store", "X-Content-SHA256": digest})
