"""The pipeline's health, read from the database at scrape time: a few aggregate queries, no rows in Python.

Each figure answers an operator's question: is work piling up (outbox, evaluation requests, pending
notifications), is it failing (failed notifications), is a patient at risk (open alerts, critical ones
unacknowledged past their escalation time), is beat alive (its lease), and is the pipeline late as the care
team's banner says (`trial_diary_pipeline_late`, from the one reading in api/services/pipeline.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter

from flask import current_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..clock import now
from ..domain.safety import SEVERITIES
from ..models import Alert, BeatLease, EvaluationRequest, Notification, OutboxMessage
from ..services.pipeline import DELAYS, PipelineState, read_pipeline_state

log = logging.getLogger(__name__)
# Sent notifications are the table's whole history: counting them would read an ever larger index at every
# scrape (about half a second for a million rows). Pending and failed are few, and their count reads only their
# part of the (state, next_attempt_at) index. The rate of deliveries comes from the worker's task counters.
COUNTED_NOTIFICATION_STATES = ("pending", "failed")


@dataclass
class PipelineHealth:
    outbox_messages: int = 0
    outbox_oldest: datetime | None = None
    evaluation_requests_due: int = 0
    evaluation_oldest_due: datetime | None = None
    notifications: dict[str, int] = field(default_factory=dict)
    notification_oldest_pending: datetime | None = None
    open_alerts: dict[str, int] = field(default_factory=dict)
    overdue_alerts: dict[str, int] = field(default_factory=dict)  # open past their escalation time
    overdue_oldest: dict[str, datetime] = field(default_factory=dict)
    beat_holder: str | None = None
    beat_expires_at: datetime | None = None


def read_health(connection: Connection, moment: datetime) -> PipelineHealth:
    """Seven aggregate statements, each served by an index or on a table that its workers keep small (outbox
    rows and evaluation requests are deleted when done): none reads the history of sent notifications or of
    acknowledged alerts (open alerts are read through the partial index of open alerts)."""
    health = PipelineHealth()
    health.outbox_messages, health.outbox_oldest = connection.execute(
        select(func.count(), func.min(OutboxMessage.created_at))).one()
    health.evaluation_requests_due, health.evaluation_oldest_due = connection.execute(
        select(func.count(), func.min(EvaluationRequest.due_at)).where(EvaluationRequest.due_at <= moment)).one()
    health.notifications = dict(connection.execute(
        select(Notification.state, func.count()).where(Notification.state.in_(COUNTED_NOTIFICATION_STATES))
        .group_by(Notification.state)).all())
    health.notification_oldest_pending = connection.execute(
        select(func.min(Notification.created_at)).where(Notification.state == "pending")).scalar()
    health.open_alerts = dict(connection.execute(
        select(Alert.severity, func.count()).where(Alert.status == "open").group_by(Alert.severity)).all())
    for severity, count, oldest in connection.execute(
            select(Alert.severity, func.count(), func.min(Alert.escalate_at))
            .where(Alert.status == "open", Alert.escalate_at <= moment).group_by(Alert.severity)):
        health.overdue_alerts[severity], health.overdue_oldest[severity] = count, oldest
    lease = connection.execute(select(BeatLease.holder, BeatLease.expires_at).where(BeatLease.name == "beat")).first()
    if lease is not None:
        health.beat_holder, health.beat_expires_at = lease
    return health


def _age(moment: datetime, since: datetime | None) -> float:
    return max(0.0, (moment - since).total_seconds()) if since is not None else 0.0


def _gauge(name: str, documentation: str, value: float | None = None, labels: Iterable[str] = ()):
    family = GaugeMetricFamily(name, documentation, labels=list(labels) or None)
    if value is not None:
        family.add_metric([], value)
    return family


def families(health: PipelineHealth, moment: datetime) -> list[Metric]:
    """The metric families of one reading. Every known state and severity is present (zero when there are
    none), so that an alerting rule compares a value instead of testing for an absent series."""
    notifications = _gauge("trial_diary_notifications", "Notifications waiting to be delivered (pending) and "
                           "given up on (failed, all time).", labels=["state"])
    for state in COUNTED_NOTIFICATION_STATES:
        notifications.add_metric([state], health.notifications.get(state, 0))
    open_alerts = _gauge("trial_diary_alerts_open", "Open (unacknowledged) alerts by severity.", labels=["severity"])
    overdue = _gauge("trial_diary_alerts_past_escalation",
                     "Open alerts whose escalation time has passed, by severity: nobody acknowledged them in time.",
                     labels=["severity"])
    overdue_age = _gauge("trial_diary_alerts_past_escalation_oldest_seconds",
                         "How long ago the oldest open alert of each severity passed its escalation time.",
                         labels=["severity"])
    for severity in SEVERITIES:
        open_alerts.add_metric([severity], health.open_alerts.get(severity, 0))
        overdue.add_metric([severity], health.overdue_alerts.get(severity, 0))
        overdue_age.add_metric([severity], _age(moment, health.overdue_oldest.get(severity)))
    result = [
        _gauge("trial_diary_outbox_messages", "Outbox messages (stored entries' follow-ups) not yet done.",
               health.outbox_messages),
        _gauge("trial_diary_outbox_oldest_age_seconds", "Age of the oldest outbox message (0 when empty).",
               _age(moment, health.outbox_oldest)),
        _gauge("trial_diary_evaluation_requests_due", "Trials whose evaluation is due and not yet done.",
               health.evaluation_requests_due),
        _gauge("trial_diary_evaluation_requests_oldest_due_seconds",
               "How long the longest-waiting due evaluation request has been due (0 when none).",
               _age(moment, health.evaluation_oldest_due)),
        notifications,
        _gauge("trial_diary_notifications_oldest_pending_seconds",
               "Age of the oldest notification not yet delivered (0 when none).",
               _age(moment, health.notification_oldest_pending)),
        open_alerts, overdue, overdue_age,
        _gauge("trial_diary_beat_lease_held", "1 while a beat holds an unexpired lease, else 0.",
               1 if health.beat_expires_at is not None and health.beat_expires_at > moment else 0),
    ]
    if health.beat_expires_at is not None:
        result.append(_gauge("trial_diary_beat_lease_expires_in_seconds",
                             "Seconds until the beat lease expires; negative once it has (its holder stopped "
                             "renewing it).", (health.beat_expires_at - moment).total_seconds()))
        holder = _gauge("trial_diary_beat_lease_holder", "The beat lease's holder (host:pid:id), value 1.",
                        labels=["holder"])
        holder.add_metric([health.beat_holder or ""], 1)
        result.append(holder)
    return result


def lateness_families(state: PipelineState) -> list[Metric]:
    """The reading behind the care team's banner and GET /monitoring/pipeline (api/services/pipeline.py), as
    gauges: whether the pipeline is late, why, and the ages it was judged on."""
    reasons = _gauge("trial_diary_pipeline_late_reason", "1 for each reason the pipeline is late: beat_stopped, "
                     "entry_checks_waiting, evaluations_waiting, alert_notifications_waiting.", labels=["reason"])
    delays = state.delays
    for reason in DELAYS:
        reasons.add_metric([reason], 1 if reason in delays else 0)
    moment = state.checked_at
    return [
        _gauge("trial_diary_pipeline_late", "1 while background work is late (the console shows its banner: new "
               "alerts may be delayed), else 0.", 1 if delays else 0),
        reasons,
        _gauge("trial_diary_pipeline_late_after_seconds", "How long due work may wait before the pipeline is late "
               "(PIPELINE_LATE_SECONDS).", state.late_after_seconds),
        _gauge("trial_diary_outbox_oldest_due_seconds", "How long the oldest due outbox message (a stored entry's "
               "safety check) has been due (0 when none).", _age(moment, state.oldest_entry_check_due_at)),
        _gauge("trial_diary_alert_notifications_oldest_pending_seconds", "Age of the oldest undelivered "
               "notification of a critical or high alert (0 when none).",
               _age(moment, state.oldest_alert_notification_at)),
    ]


class PipelineCollector:
    """Queries the database when scraped. A database that does not answer gives `trial_diary_pipeline_up 0`
    and the other metrics still go out."""

    def __init__(self, engine_of, late_after_seconds_of=lambda: current_app.config["PIPELINE_LATE_SECONDS"]):
        self.engine_of = engine_of  # called at scrape time: the engine of the app serving the scrape
        self.late_after_seconds_of = late_after_seconds_of

    def describe(self) -> list:
        return []  # nothing to query when the collector is registered

    def collect(self) -> Iterable[Metric]:
        started, moment = perf_counter(), now()
        try:
            with self.engine_of().connect() as connection:
                result = families(read_health(connection, moment), moment) + lateness_families(
                    read_pipeline_state(connection, moment, self.late_after_seconds_of()))
            up = 1
        except Exception as exc:
            log.warning("pipeline metrics could not be read from the database (%s)", type(exc).__name__)
            result, up = [], 0
        yield from result
        yield _gauge("trial_diary_pipeline_up", "1 when the pipeline's figures were read from the database.", up)
        yield _gauge("trial_diary_pipeline_scrape_seconds", "Time the pipeline's queries took in this scrape.",
                     perf_counter() - started)
