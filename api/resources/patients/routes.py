"""Patients of the clinic."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import patients, sign_in_links, texting
from ...services.access import CARE, actor, patient_for, requires
from .schemas import EnrollmentOut, InboundMessageOut, PatientIn, PatientOut, PatientPatchIn, SignInLinkOut

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients (nurses, physicians).")


@blp.route("")
class Patients(MethodView):
    @requires(*CARE)
    @blp.arguments(PatientIn)
    @blp.response(201, EnrollmentOut)
    @blp.alt_response(409, description="A care team account has this email, or a patient of this clinic has this "
                                        "email or this MRN.")
    def post(self, data):
        """Register a patient; returns the single-use enrollment code for their phone

        A patient of another clinic is registered as anyone is (the same answer): their one account gets this
        clinic's record, which their sign-in reaches once they use its code with their password.
        """
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

    @requires(*CARE)
    @blp.arguments(PatientPatchIn)
    @blp.response(200, PatientOut)
    def patch(self, data, patient_id):
        """Change the patient's contact details, mobile number, consent to texts, or sex for the medical record"""
        staff = actor()
        return patients.update_patient(staff=staff, patient=patient_for(staff, patient_id, action="patient.update"),
                                       **data)


@blp.route("/<int:patient_id>/enrollment-code")
class EnrollmentCode(MethodView):
    @requires(*CARE)
    @blp.response(201, EnrollmentOut)
    def post(self, patient_id):
        """Issue a new enrollment code (the earlier ones stop working)"""
        staff = actor()
        patient = patient_for(staff, patient_id, action="patient.enrollment_code")
        return patients.reissue_enrollment_code(staff=staff, patient=patient)


@blp.route("/<int:patient_id>/sign-in-link")
class SignInLink(MethodView):
    @requires(*CARE)
    @blp.response(202, SignInLinkOut)
    @blp.alt_response(409, description="The patient has not enrolled, cannot be texted (number, consent, STOP), or "
                                        "has used up today's texts.")
    def post(self, patient_id):
        """Text the patient a link that opens their diary (once, for 15 minutes)"""
        staff = actor()
        return sign_in_links.send_link(staff=staff, patient=patient_for(staff, patient_id, action="sign_in_link.send"))


@blp.route("/<int:patient_id>/messages")
class Messages(MethodView):
    @requires(*CARE)
    @blp.response(200, InboundMessageOut(many=True))
    def get(self, patient_id):
        """What the patient texted to the clinic's number, newest first"""
        return texting.messages_of(patient=patient_for(actor(), patient_id, action="patient.messages"))
