"""The diary: entries idempotent on client_id, batches where one bad entry sinks none, corrections, voids."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, String, bindparam, func, insert, literal, select, true, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..domain.safety import may_be_urgent
from ..domain.therapies import REGISTRY
from ..domain.timeliness import is_late
from ..errors import Conflict, Invalid, NotFound, TrialClosed
from ..extensions import db
from ..extensions.database import EARLIEST, LATEST, MAX_ID, get_locked
from ..logs import current_request_id
from ..models import AuditEvent, AuthSession, DiaryEntry, DiaryEntryVersion, OutboxMessage, Patient, Trial, User
from . import audit
from .access import PATIENT, Actor, Diary, actor, own_diary, token_role, token_session_id, trial_for
from .alerts import check_entry
from .dispatch import at_once
from .evaluations import request_evaluation

CREATED, DUPLICATE, CONFLICT, INVALID = "created", "duplicate", "conflict", "invalid"
BATCH_STATUSES = (CREATED, DUPLICATE, CONFLICT, INVALID)
ENTRY_STORED = "diary.entry_stored"  # the outbox topic, and the name of the task that follows an entry up
# Built once: every new or corrected entry queues one.
_INSERT_MESSAGE = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
_ENTRY_COLUMNS = [column for column in DiaryEntry.__table__.columns if column.key != "id"]  # what an insert sets


@dataclass
class BatchItem:
    """One entry of a batch as the view parsed it: its data, or why it is invalid."""

    client_id: str | None
    data: dict[str, Any] | None = None
    errors: dict[str, Any] | None = None


@dataclass
class BatchResult:
    client_id: str | None
    status: str
    id: int | None = None
    errors: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class EntryPage:
    items: list[DiaryEntry]
    next_cursor: str | None


def record_entry(*, trial_id: int, data: dict[str, Any], user: Actor | None = None) -> tuple[DiaryEntry, bool]:
    """Store one entry for the caller; a replay of the same content returns the stored entry (False), different
    content is 409. The caller is `user` (a face that looked its session up already, as the diary page does), or
    else the request's verified token, whose sign-in session is not yet looked up (`requires(...,
    session_checked_by_view=True)`).

    The insert is tried first, and itself checks that the caller's session is live, that they are the trial's
    patient and that its diary is open: nearly every entry is new and rightful, so it takes one statement.
    Only when nothing was stored is the reason looked for (401, 404, 403, 409 for a closed diary, or a
    replay). The unique key, not a prior read, decides between racing uploads of one client_id.
    """
    client_id, recorded_at, content = _split(data)
    digest = content_hash(recorded_at, content)
    session_id = user.session_id if user else token_session_id()
    entry = _entry_row(trial_id, client_id, recorded_at, content, digest, session_id=session_id)
    if (user.role if user else token_role()) == PATIENT:
        urgent = may_be_urgent(content)
        entry.id, message_id, entry.known_therapy = _store_if_rightful(
            entry, urgent=urgent, writer=lambda: user or actor())
        if entry.id is not None:
            at_once(ENTRY_STORED, message_id, urgent=urgent)
            db.session.commit()
            return entry, True
    diary = own_diary(user or actor(), trial_id, action="entry.create")
    _ensure_open(diary)
    existing = _by_client_id(diary.trial_id, [client_id]).get(client_id)
    if existing is None:  # refused, yet rightful, open and nothing to replay: a race; the phone retries
        raise Conflict("The entry could not be stored; try again.")
    existing.known_therapy = diary.therapy
    return _replayed(existing, digest), False


def record_batch(*, user: Actor, trial_id: int, items: list[BatchItem]) -> list[BatchResult]:
    """Store a batch; each entry gets its own result and one bad entry never sinks the others."""
    diary = own_diary(user, trial_id, action="entry.batch")
    _ensure_open(diary)
    for _attempt in range(2):
        try:
            results = _store_batch(diary, items, session_id=user.session_id)
            db.session.commit()
            return results
        except IntegrityError:  # a concurrent upload stored some of these client_ids: sort them again
            db.session.rollback()
    raise Conflict("The batch could not be stored; try again.")


def list_entries(
    *, user: Actor, trial_id: int, updated_since: datetime | None = None, cursor: str | None = None, limit: int = 100
) -> EntryPage:
    """Entries (voided ones too, marked) in the order they last changed, for the phone's sync."""
    trial = trial_for(user, trial_id, action="entry.list")
    query = select(DiaryEntry).where(DiaryEntry.trial_id == trial.id)
    if updated_since is not None:
        query = query.where(DiaryEntry.updated_at >= updated_since)
    if cursor is not None:
        after_time, after_id = _decode_cursor(cursor)
        query = query.where(tuple_(DiaryEntry.updated_at, DiaryEntry.id) > tuple_(after_time, after_id))
    rows = list(db.session.execute(
        query.order_by(DiaryEntry.updated_at, DiaryEntry.id).limit(limit + 1)
    ).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(rows, _encode_cursor(rows[-1]) if more else None)


def get_entry(*, user: Actor, trial_id: int, entry_id: int) -> DiaryEntry:
    trial = trial_for(user, trial_id, action="entry.read")
    return _entry_of(trial.id, entry_id)


def entry_versions(*, user: Actor, trial_id: int, entry_id: int) -> list[DiaryEntryVersion]:
    trial = trial_for(user, trial_id, action="entry.history")
    entry = _entry_of(trial.id, entry_id)
    return list(db.session.execute(
        select(DiaryEntryVersion).where(DiaryEntryVersion.entry_id == entry.id).order_by(DiaryEntryVersion.version)
    ).scalars())


def replaced_versions_of(trial_id: int) -> dict[int, list[DiaryEntryVersion]]:
    """Every version that a correction replaced, per entry of the trial, oldest first (the console's diary).
    For a caller that already checked access to the trial (and audited it), as `trial_record` does."""
    versions: dict[int, list[DiaryEntryVersion]] = {}
    for version in db.session.execute(
            select(DiaryEntryVersion).join(DiaryEntry, DiaryEntry.id == DiaryEntryVersion.entry_id)
            .where(DiaryEntry.trial_id == trial_id).order_by(DiaryEntryVersion.entry_id, DiaryEntryVersion.version)
    ).scalars():
        versions.setdefault(version.entry_id, []).append(version)
    return versions


def correct_entry(*, user: Actor, trial_id: int, entry_id: int, changes: dict[str, Any]) -> DiaryEntry:
    """Replace the fields sent (a nested object whole; null clears an optional one); keep the old version."""
    diary = own_diary(user, trial_id, action="entry.correct")
    _ensure_open(diary)
    entry = _entry_of(diary.trial_id, entry_id, lock=True)
    entry.known_therapy = diary.therapy
    if entry.voided_at is not None:
        raise Conflict("A voided entry cannot be corrected.")
    recorded_at = changes.pop("recorded_at", None) or entry.recorded_at_local
    content = {**entry.content, **changes}
    content = {k: v for k, v in content.items() if v is not None}
    if "pain" not in content:
        raise Invalid("pain is required.", errors={"pain": ["Cannot be removed."]})
    digest = content_hash(recorded_at, content)
    if digest == entry.content_hash:  # a retried correction: nothing new to keep
        db.session.rollback()
        return entry
    db.session.add(DiaryEntryVersion(
        entry_id=entry.id, version=entry.version, recorded_at=entry.recorded_at,
        utc_offset_minutes=entry.utc_offset_minutes, content=entry.content, replaced_by=user.id,
        auth_session_id=entry.auth_session_id,
    ))
    entry.auth_session_id = user.session_id
    entry.recorded_at, entry.utc_offset_minutes = recorded_at, _offset_minutes(recorded_at)
    entry.content, entry.content_hash = content, digest
    entry.version += 1
    entry.updated_at = now()
    _queue_follow_up(entry)
    db.session.commit()
    return entry


def void_entry(*, user: Actor, trial_id: int, entry_id: int, reason: str) -> DiaryEntry:
    """Void an entry with a reason: kept, excluded from evaluation. Voiding again changes nothing."""
    diary = own_diary(user, trial_id, action="entry.void")
    _ensure_open(diary)
    entry = _entry_of(diary.trial_id, entry_id, lock=True)
    entry.known_therapy = diary.therapy
    if entry.voided_at is None:
        entry.voided_at = entry.updated_at = now()
        entry.void_reason = reason
        request_evaluation(trial_id=diary.trial_id)
        db.session.commit()
    return entry


def follow_up_entry(*, message_id: int) -> int:
    """What follows a stored entry version: the safety rules, and an evaluation request for its trial.

    Both commit with the removal of the outbox message that asked for them, so a retry after a crash
    redoes all of it or none. Idempotent. Returns the number of alerts raised.
    """
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if message is None:  # done already, or another worker holds it
        db.session.rollback()
        return 0
    raised = check_entry(entry_id=message.payload["entry_id"], version=message.payload["version"])
    request_evaluation(trial_id=message.payload["trial_id"])
    db.session.delete(message)
    db.session.commit()
    return raised


def entry_is_late(entry: DiaryEntry) -> bool:
    """Received later than its trial's therapy allows after the time it describes (domain/timeliness.py).

    The therapy is the one the entry's write read with it (`known_therapy`: a new entry, a replay, a correction, a
    void), else the trial's, which costs a query only the first time in a session (a list's entries share it). A
    new entry's answer must not read the trial: that read, with its own transaction, cost more than storing the
    entry (docs/benchmarks.md, Ingest)."""
    therapy = entry.known_therapy or db.session.get(Trial, entry.trial_id).therapy
    return is_late(entry.recorded_at, entry.received_at, REGISTRY[therapy].late_after)


def content_hash(recorded_at: datetime, content: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"recorded_at": recorded_at.astimezone(UTC).isoformat(), "content": content},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _store_batch(diary: Diary, items: list[BatchItem], *, session_id: str | None) -> list[BatchResult]:
    valid_ids = [item.client_id for item in items if item.data is not None]
    known = _by_client_id(diary.trial_id, valid_ids)
    results: list[BatchResult] = []
    created: list[tuple[BatchResult, DiaryEntry]] = []
    for item in items:
        if item.data is None:
            results.append(BatchResult(item.client_id, INVALID, errors=item.errors))
            continue
        client_id, recorded_at, content = _split(dict(item.data))
        digest = content_hash(recorded_at, content)
        existing = known.get(client_id)
        if existing is None:
            existing = known[client_id] = _new_entry(diary, client_id, recorded_at, content, digest, session_id)
            result = BatchResult(client_id, CREATED)
            created.append((result, existing))
        elif digest in (existing.original_hash, existing.content_hash):
            result = BatchResult(client_id, DUPLICATE, existing.id)
        else:
            result = BatchResult(client_id, CONFLICT, existing.id,
                                 errors={"client_id": ["Already recorded with different content."]})
        results.append(result)
    if created:
        db.session.flush()
        for result, entry in created:
            result.id = entry.id
        _queue_follow_up(*(entry for _, entry in created))
        for result in results:  # a later duplicate of an entry created in this same batch
            if result.id is None and result.status != INVALID:
                result.id = known[result.client_id].id
    return results


def _queue_follow_up(*entries: DiaryEntry) -> list[int]:
    """One outbox row per stored entry version, in the write's transaction: the work after it is never lost,
    and the request that stored the entry does no more than this one insert for it, and hands the follow-ups
    to the publisher when it commits."""
    rows = _follow_up_rows(*entries)
    message_ids = list(db.session.execute(_INSERT_MESSAGE, rows).scalars())
    for row, message_id in zip(rows, message_ids, strict=True):
        at_once(ENTRY_STORED, message_id, urgent=row["payload"]["urgent"])
    return message_ids


def _follow_up_rows(*entries: DiaryEntry) -> list[dict[str, Any]]:
    moment, request_id = now(), current_request_id()
    return [{"topic": ENTRY_STORED, "due_at": moment, "created_at": moment,
             "payload": {"entry_id": entry.id, "version": entry.version, "trial_id": entry.trial_id,
                         "request_id": request_id, "urgent": may_be_urgent(entry.content)}} for entry in entries]


def _split(data: dict[str, Any]) -> tuple[str, datetime, dict[str, Any]]:
    data = dict(data)
    client_id = str(data.pop("client_id"))
    recorded_at = data.pop("recorded_at")
    return client_id, recorded_at, data


def _new_entry(diary: Diary, client_id: str, recorded_at: datetime, content: dict[str, Any], digest: str,
               session_id: str | None) -> DiaryEntry:
    entry = _entry_row(diary.trial_id, client_id, recorded_at, content, digest, session_id=session_id)
    db.session.add(entry)
    return entry


def _entry_row(
    trial_id: int, client_id: str, recorded_at: datetime, content: dict[str, Any], digest: str, *,
    session_id: str | None,
) -> DiaryEntry:
    """The first version of an entry, not yet in the session, attributed to the sign-in session writing it."""
    moment = now()
    return DiaryEntry(
        trial_id=trial_id, client_id=client_id, recorded_at=recorded_at,
        utc_offset_minutes=_offset_minutes(recorded_at), content=content,
        content_hash=digest, original_hash=digest, version=1, created_at=moment, updated_at=moment,
        auth_session_id=session_id,
    )


def _store_if_rightful(entry: DiaryEntry, *, urgent: bool, writer: Callable[[], Actor]
                       ) -> tuple[int | None, int | None, str | None]:
    """Store a new entry with its follow-up message and the request's audit row, if the caller's sign-in session
    is live, the trial is theirs, its diary is open and the client_id is new to it; returns the new entry's id, its
    follow-up message's and the trial's therapy (for the answer's `late`), or three Nones when nothing was stored
    (the caller publishes the follow-up).

    PostgreSQL does all of it in one statement (writable CTEs): the entry costs one round trip in all.
    SQLite cannot, so there the caller is read first, then the entry inserted, then the trial's patient (for the
    audit row) and therapy read, then the message inserted and the audit row recorded.
    """
    params = {**_columns(entry), "diary_trial_id": entry.trial_id}
    if db.session.get_bind().dialect.name == "postgresql":
        params["writer_session_id"] = entry.auth_session_id
        params.update({"message_request_id": current_request_id(), "message_at": entry.created_at,
                       "message_urgent": urgent},
                      **{f"audit_{key}": value for key, value in audit.request_values(
                          "entry.create", object_type="trial", object_id=entry.trial_id).items()})
        stored = db.session.execute(_STORE_WITH_SESSION_CHECK_FOLLOW_UP_AND_AUDIT, params).first()
        return (stored.id, stored.message_id, stored.therapy) if stored else (None, None, None)
    who = writer()
    entry.id = db.session.execute(_STORE_ENTRY_OF_PATIENT,
                                  {**params, "writer_patient_ids": list(who.patient_ids)}).scalar()
    if entry.id is None:
        return None, None, None
    trial = db.session.execute(_TRIAL_OF_ENTRY, {"diary_trial_id": entry.trial_id}).one()
    audit.record("entry.create", patient_id=trial.patient_id, object_type="trial", object_id=entry.trial_id)
    message_id, = db.session.execute(_INSERT_MESSAGE, _follow_up_rows(entry)).scalars()
    return entry.id, message_id, trial.therapy


_entries, _trials, _patients, _users, _sessions = (
    DiaryEntry.__table__, Trial.__table__, Patient.__table__, User.__table__, AuthSession.__table__)


def _insert_entry_where(insert, source, *conditions):
    """The entry, from a select of `source` under `conditions`, unless its client_id is already in its trial.

    `insert` is the backend's own (for ON CONFLICT). Returns the new id, trial and version; nothing when
    the conditions fail or the client_id is known.
    """
    rightful = select(*(bindparam(column.key, type_=column.type) for column in _ENTRY_COLUMNS)).select_from(source)
    return (insert(_entries).from_select([column.key for column in _ENTRY_COLUMNS], rightful.where(*conditions))
            .on_conflict_do_nothing(index_elements=[_entries.c.trial_id, _entries.c.client_id])
            .returning(_entries.c.id, _entries.c.trial_id, _entries.c.version))


def _store_with_session_check_follow_up_and_audit():
    """PostgreSQL: the writer (live session, active account, the open trial's own patient: the account's record at
    the trial's clinic, enrolled); the entry, if there is such a writer; then the outbox message and the audit row
    (who and which patient from the writer, the clinic from the trial). It returns the new entry's id, its
    message's and the trial's therapy."""
    writer = (
        select(_users.c.id.label("user_id"), _users.c.role, _trials.c.clinic_id, _patients.c.id.label("patient_id"),
               _trials.c.therapy)
        .select_from(_sessions.join(_users, _users.c.id == _sessions.c.user_id)
                     .join(_patients, _patients.c.user_id == _users.c.id)
                     .join(_trials, _trials.c.patient_id == _patients.c.id))
        .where(_sessions.c.id == bindparam("writer_session_id"), _sessions.c.revoked_at.is_(None),
               _users.c.active.is_(True), _patients.c.enrolled_at.is_not(None),
               _trials.c.id == bindparam("diary_trial_id"), _trials.c.closure.is_(None))
        .cte("writer")
    )
    stored = _insert_entry_where(postgresql_insert, writer).cte("stored")
    messages, events = OutboxMessage.__table__, AuditEvent.__table__
    # The payload _queue_follow_up writes; jsonb_build_object needs its text arguments typed.
    payload = func.jsonb_build_object(
        literal("entry_id", String), stored.c.id, literal("version", String), stored.c.version,
        literal("trial_id", String), stored.c.trial_id,
        literal("request_id", String), bindparam("message_request_id", type_=String),
        literal("urgent", String), bindparam("message_urgent", type_=Boolean),
    )
    at = bindparam("message_at", type_=messages.c.created_at.type)
    queued = insert(messages).from_select(
        ["topic", "payload", "due_at", "created_at"],
        select(literal(ENTRY_STORED, String), payload, at, at).select_from(stored),
    ).returning(messages.c.id).cte("queued")
    from_writer = {"actor_user_id": writer.c.user_id, "actor_role": writer.c.role,
                   "clinic_id": writer.c.clinic_id, "patient_id": writer.c.patient_id}
    columns = [column for column in events.columns if column.key != "id"]
    audited = insert(events).from_select(
        [column.key for column in columns],
        select(*(from_writer.get(column.key, bindparam(f"audit_{column.key}", type_=column.type))
                 for column in columns))
        .select_from(stored.join(writer, true())),
    ).cte("audited")
    return (select(stored.c.id, queued.c.id.label("message_id"), writer.c.therapy)
            .select_from(stored.join(queued, true()).join(writer, true())).add_cte(audited))


# Built once: nearly every request of the phone runs one of them.
_STORE_WITH_SESSION_CHECK_FOLLOW_UP_AND_AUDIT = _store_with_session_check_follow_up_and_audit()
_STORE_ENTRY_OF_PATIENT = _insert_entry_where(
    sqlite_insert, _trials, _trials.c.id == bindparam("diary_trial_id"),
    _trials.c.patient_id.in_(bindparam("writer_patient_ids", expanding=True)), _trials.c.closure.is_(None),
)
_TRIAL_OF_ENTRY = select(_trials.c.patient_id, _trials.c.therapy).where(_trials.c.id == bindparam("diary_trial_id"))


def _columns(entry: DiaryEntry) -> dict[str, Any]:
    return {column.key: getattr(entry, column.key) for column in _ENTRY_COLUMNS}


def _replayed(existing: DiaryEntry, digest: str) -> DiaryEntry:
    if digest in (existing.original_hash, existing.content_hash):
        return existing
    raise Conflict(
        "This client_id was already recorded with different content.",
        errors={"client_id": ["Already recorded with different content."]},
        details={"entry_id": existing.id},
    )


def _by_client_id(trial_id: int, client_ids: list[str]) -> dict[str, DiaryEntry]:
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(DiaryEntry).where(DiaryEntry.trial_id == trial_id, DiaryEntry.client_id.in_(set(client_ids)))
    ).scalars()
    return {row.client_id: row for row in rows}


def _entry_of(trial_id: int, entry_id: int, lock: bool = False) -> DiaryEntry:
    entry = get_locked(DiaryEntry, entry_id) if lock else db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.trial_id != trial_id:
        raise NotFound("No such entry.")
    return entry


def _ensure_open(diary: Diary) -> None:
    if diary.closure is not None:
        raise TrialClosed(f"The diary is closed: the trial is {diary.closure}.")


def _offset_minutes(moment: datetime) -> int:
    return int(moment.utcoffset().total_seconds() // 60)


def _encode_cursor(entry: DiaryEntry) -> str:
    raw = f"{entry.updated_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, entry_id = raw.split("|")
        after_time, after_id = datetime.fromisoformat(when), int(entry_id)
        if after_time.tzinfo is None or not EARLIEST <= after_time < LATEST or not 0 <= after_id <= MAX_ID:
            raise ValueError("out of range")
        return after_time, after_id
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise Invalid("The cursor is not valid.", errors={"cursor": ["Not a cursor this API gave."]}) from exc
