"""SQLAlchemy models, one module per aggregate."""

from .audit import AuditEvent
from .clinic import AuthSession, Clinic, User
from .decision import Decision, SignedReport
from .diary import DiaryEntry, DiaryEntryVersion
from .documentation import ReadinessRequirement, TrialDocumentation
from .evaluation import Evaluation, EvaluationRequest
from .notification import Device, Notification, OutboxMessage, Webhook
from .operations import BeatLease
from .patient import EnrollmentCode, Patient
from .safety import Alert, AlertEntry, ExpectedFinding
from .texting import InboundMessage, ScheduledText, SignInLink
from .trial import BlockReminder, CareTeamMember, Trial

__all__ = [
    "Alert", "AlertEntry", "BlockReminder", "Decision", "Device", "ExpectedFinding", "Notification", "OutboxMessage",
    "Webhook",
    "AuditEvent", "AuthSession", "BeatLease", "CareTeamMember", "Clinic", "DiaryEntry", "DiaryEntryVersion",
    "EnrollmentCode", "Evaluation", "EvaluationRequest", "InboundMessage", "Patient", "ScheduledText", "SignInLink",
    "ReadinessRequirement", "SignedReport", "Trial",
    "TrialDocumentation", "User",
]
