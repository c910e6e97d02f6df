"""Trials."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import trials
from ...services.access import CARE, PATIENT, actor, requires, trial_for
from .schemas import TrialIn, TrialOut, TrialPatchIn, TrialQuery

blp = Blueprint("trials", __name__, url_prefix="/api/v1/trials",
                description="Trials: SCS, PNS, intrathecal, and diagnostic blocks.")


@blp.route("")
class Trials(MethodView):
    @requires(*CARE)
    @blp.arguments(TrialIn)
    @blp.response(201, TrialOut)
    def post(self, data):
        """Register a trial (past start dates are fine: clinics enter trials after the fact)

        A block (medial_branch_block, sacroiliac_block, nerve_root_block) needs `target` and `agent`; its
        `end_at` defaults to 8 hours after the block. `warnings` lists what the clinic should know, such as a
        yearly block count over the limit: the trial is registered all the same."""
        return trials.create_trial(staff=actor(), **data)

    @requires(PATIENT, *CARE)
    @blp.arguments(TrialQuery, location="query")
    @blp.response(200, TrialOut(many=True))
    def get(self, query):
        """List trials: the clinic's for staff, their own for a patient"""
        return trials.list_trials(user=actor(), **query)


@blp.route("/<int:trial_id>")
class TrialById(MethodView):
    @requires(PATIENT, *CARE)
    @blp.response(200, TrialOut)
    def get(self, trial_id):
        """One trial"""
        return trial_for(actor(), trial_id, action="trial.read")

    @requires(*CARE)
    @blp.arguments(TrialPatchIn)
    @blp.response(200, TrialOut)
    @blp.alt_response(409, description="The trial was decided or cancelled: it can no longer change.")
    def patch(self, data, trial_id):
        """Move the end date, change the care team, or cancel"""
        user = actor()
        trial = trial_for(user, trial_id, action="trial.update", lock=True)
        return trials.update_trial(trial=trial, staff=user, end_at=data.get("end_at"),
                                   cancel=data.get("status") == "cancelled", care_team=data.get("care_team"))
