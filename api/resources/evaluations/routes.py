"""Evaluations and the per-bucket summary."""

from flask.views import MethodView

from ...extensions import Blueprint
from ...services import evaluations
from ...services.access import CARE, PATIENT, actor, requires
from .schemas import QUEUED, EvaluationOut, QueuedOut, SummaryOut

blp = Blueprint("evaluations", __name__, url_prefix="/api/v1/trials", description="Trial evaluations.")


@blp.route("/<int:trial_id>/evaluations")
class Evaluations(MethodView):
    @requires(*CARE)
    @blp.response(202, QueuedOut)
    def post(self, trial_id):
        """Queue an evaluation now"""
        evaluations.queue_evaluation(user=actor(), trial_id=trial_id)
        return {"status": QUEUED, "trial_id": trial_id}

    @requires(PATIENT, *CARE)
    @blp.response(200, EvaluationOut(many=True))
    def get(self, trial_id):
        """Evaluation history, newest first"""
        return evaluations.evaluation_history(user=actor(), trial_id=trial_id)


@blp.route("/<int:trial_id>/evaluations/latest")
class LatestEvaluation(MethodView):
    @requires(PATIENT, *CARE)
    @blp.response(200, EvaluationOut)
    def get(self, trial_id):
        """The latest evaluation (the latest final one is the trial's result)"""
        return evaluations.latest_evaluation(user=actor(), trial_id=trial_id)


@blp.route("/<int:trial_id>/summary")
class Summary(MethodView):
    @requires(*CARE)
    @blp.response(200, SummaryOut)
    def get(self, trial_id):
        """Per-bucket series of pain, MME, interference and entries beside the baseline"""
        return evaluations.trial_summary(user=actor(), trial_id=trial_id)
