"""The banner that tells the care team when background work is late (api/services/pipeline.py), on the worklist
and alerts pages, and the fragment their script fetches to keep it current."""

from __future__ import annotations

from flask import render_template

from ...services import pipeline
from ...services.access import CARE, Actor
from .. import bp
from ..guard import staff_page


@bp.app_template_global()
def pipeline_state() -> pipeline.PipelineState:
    return pipeline.pipeline_state()


@bp.route("/live/pipeline")
@staff_page(*CARE, active=False)
def pipeline_fragment(user: Actor):
    return render_template("console/_pipeline_late.html")
