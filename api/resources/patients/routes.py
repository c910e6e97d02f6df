"""Patients of the clinic."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import patients
from ...services.access import CARE, actor, patient_for, requires
from .schemas import EnrollmentOut, PatientIn, PatientOut

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients (nurses, physicians).")


@blp.route("")
class Patients(MethodView):
    @requires(*CARE)
    @blp.arguments(PatientIn)
    @blp.response(201, EnrollmentOut)
    def post(self, data):
        """Register a patient; returns the single-use enrollment code for their phone"""
        return patients.create_patient(staff=actor(), **data)

    @requires(*CARE)
    @blp.response(200, PatientOut(many=True))
    def get(self):
        """List your clinic's patients"""
        return patients.list_patients(staff=actor())


@blp.route("/<int:patient_id>")
class PatientById(MethodView):
    @requires(*CARE)
    @blp.response(200, PatientOut)
    def get(self, patient_id):
        """One patient"""
        return patient_for(actor(), patient_id, action="patient.read")


@blp.route("/<int:patient_id>/enrollment-code")
class EnrollmentCode(MethodView):
    @requires(*CARE)
    @blp.response(201, EnrollmentOut)
    def post(self, patient_id):
        """Issue a new enrollment code (the earlier ones stop working)"""
        staff = actor()
        patient = patient_for(staff, patient_id, action="patient.enrollment_code")
        return patients.reissue_enrollment_code(staff=staff, patient=patient)
