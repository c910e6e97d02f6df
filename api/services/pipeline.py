"""Whether background work is on time: the one reading behind the console's banner and `GET /monitoring/pipeline`.

The pipeline is late when no beat holds its lease (nothing sweeps due work), or when the oldest due work of a
kind waited longer than PIPELINE_LATE_SECONDS: an entry's follow-up (its safety check), an evaluation, or the
notification of a critical or high alert. Any of them means a new alert may reach the care team late
(docs/operations.md, "Is background work on time?").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..clock import now
from ..extensions import db
from ..models import Alert, BeatLease, EvaluationRequest, Notification, OutboxMessage

URGENT_SEVERITIES = ("critical", "high")
BEAT_STOPPED, ENTRIES_WAITING, EVALUATIONS_WAITING, ALERT_MESSAGES_WAITING = (
    "beat_stopped", "entry_checks_waiting", "evaluations_waiting", "alert_notifications_waiting")
DELAYS = (BEAT_STOPPED, ENTRIES_WAITING, EVALUATIONS_WAITING, ALERT_MESSAGES_WAITING)


@dataclass(frozen=True)
class PipelineState:
    checked_at: datetime
    late_after_seconds: float
    beat_lease_expires_at: datetime | None
    oldest_entry_check_due_at: datetime | None
    oldest_evaluation_due_at: datetime | None
    oldest_alert_notification_at: datetime | None

    @property
    def beat_running(self) -> bool:
        return self.beat_lease_expires_at is not None and self.beat_lease_expires_at > self.checked_at

    @property
    def delays(self) -> list[str]:
        """What is late, in the order an operator looks at it."""
        cutoff = self.checked_at - timedelta(seconds=self.late_after_seconds)
        waiting = {ENTRIES_WAITING: self.oldest_entry_check_due_at, EVALUATIONS_WAITING: self.oldest_evaluation_due_at,
                   ALERT_MESSAGES_WAITING: self.oldest_alert_notification_at}
        return ([] if self.beat_running else [BEAT_STOPPED]) + [
            delay for delay, since in waiting.items() if since is not None and since < cutoff]

    @property
    def late(self) -> bool:
        return bool(self.delays)


def pipeline_state() -> PipelineState:
    """The state now, read in the request's session."""
    return read_pipeline_state(db.session, now(), current_app.config["PIPELINE_LATE_SECONDS"])


def read_pipeline_state(connection: Connection | Session, moment: datetime, late_after_seconds: float) -> PipelineState:
    """Four small reads: the beat lease, and the oldest due row of each kind (tables their workers keep short;
    the notifications' part is pending ones only, through the (state, next_attempt_at) index). A notification
    waiting on a mail server that is down counts as late too: the care team is not told either way. Also read by
    the metrics at each scrape (api/metrics/pipeline.py), on a connection of their own."""
    due_entries = select(func.min(OutboxMessage.due_at)).where(OutboxMessage.due_at <= moment)
    due_evaluations = select(func.min(EvaluationRequest.due_at)).where(EvaluationRequest.due_at <= moment)
    urgent = (select(func.min(Notification.created_at)).join(Alert, Alert.id == Notification.alert_id)
              .where(Notification.state == "pending", Alert.severity.in_(URGENT_SEVERITIES)))
    lease = select(BeatLease.expires_at).where(BeatLease.name == "beat")
    row = connection.execute(select(lease.scalar_subquery(), due_entries.scalar_subquery(),
                                    due_evaluations.scalar_subquery(), urgent.scalar_subquery())).one()
    return PipelineState(moment, late_after_seconds, *row)
