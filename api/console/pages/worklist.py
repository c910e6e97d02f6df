"""The worklist (home) and the alerts page, with the fragments their script fetches to stay current."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...domain.safety import NEXT_ACTIONS
from ...exports import wording
from ...models.clinic import STAFF_ROLES
from ...resources.alerts.schemas import AcknowledgeIn
from ...services import alerts as alert_service
from ...services import monitoring, trials, users
from ...services.access import ADMIN, CARE, Actor
from .. import bp, present
from ..guard import back_to, staff_page
from ..present import FormProblems


@bp.route("/")
@staff_page(*STAFF_ROLES)
def home(user: Actor):
    if user.role == ADMIN:
        return redirect(url_for("console.staff"))
    chosen = _filters()
    closed = None
    if chosen["status"] in CLOSED:  # decided or cancelled trials: not on the worklist, found here
        closed = [t for t in trials.list_trials(user=user, status=chosen["status"])
                  if (not chosen["therapy"] or t.therapy == chosen["therapy"])
                  and (not chosen["mine"] or user.id in t.care_team)]
        closed.sort(key=lambda t: t.closed_at or t.end_at, reverse=True)
    return render_template("console/worklist.html", user=user, rows=[] if closed is not None else _rows(user, chosen),
                           closed=closed, chosen=chosen, therapies=list(wording.THERAPY_NAMES.items()),
                           statuses=[(s, wording.STATUS_WORDS[s]) for s in OPEN + CLOSED])


OPEN, CLOSED = ("scheduled", "active", "ended"), ("decided", "cancelled")


def _filters() -> dict:
    """The worklist's filters from the query string; an unknown value is no filter."""
    therapy, status = request.args.get("therapy", ""), request.args.get("status", "")
    return {"mine": request.args.get("mine") == "yes",
            "therapy": therapy if therapy in wording.THERAPY_NAMES else "",
            "status": status if status in OPEN + CLOSED else ""}


def _rows(user: Actor, chosen: dict) -> list[dict]:
    return [row for row in monitoring.worklist(user=user, mine=chosen["mine"])
            if (not chosen["therapy"] or row["therapy"] == chosen["therapy"])
            and (not chosen["status"] or row["status"] == chosen["status"])]


@bp.route("/live/worklist")
@staff_page(*CARE, active=False)
def worklist_fragment(user: Actor):
    return render_template("console/_worklist_rows.html", rows=_rows(user, _filters()))


def _alert_board(user: Actor) -> dict:
    open_alerts = alert_service.list_alerts(user=user, status="open")
    done = alert_service.list_alerts(user=user, status="acknowledged", limit=50)
    trial_ids = {a.trial_id for a in open_alerts + done}
    labels = trials.trial_labels(user=user, trial_ids=trial_ids)
    names = users.staff_names(user=user, user_ids={a.acknowledged_by for a in done})
    return {"open_alerts": open_alerts, "acknowledged": done, "labels": labels, "names": names,
            "stories": alert_service.alert_stories(open_alerts), "next_actions": NEXT_ACTIONS}


@bp.route("/alerts")
@staff_page(*CARE)
def alerts(user: Actor):
    return render_template("console/alerts.html", user=user, statistics=alert_service.statistics(user=user, days=30),
                           **_alert_board(user))


@bp.route("/live/alerts")
@staff_page(*CARE, active=False)
def alerts_fragment(user: Actor):
    return render_template("console/_alerts_open.html", **_alert_board(user))


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@staff_page(*CARE)
def acknowledge(user: Actor, alert_id: int):
    try:
        data = present.load(AcknowledgeIn(), present.without_empty({"note": present.text(request.form, "note")}))
    except FormProblems as problems:
        flash(f"Not acknowledged: {' '.join(problems.errors.values())}", "error")
        return redirect(back_to(url_for("console.alerts")))
    alert = alert_service.acknowledge(user=user, alert_id=alert_id, note=data.get("note"))
    flash(f"Acknowledged: {wording.alert_words(alert.rule)}.", "success")
    return redirect(back_to(url_for("console.alerts")))
