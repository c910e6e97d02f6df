"""The diary: entries of one trial."""

from flask.views import MethodView
from marshmallow import ValidationError

from ...errors import Invalid, named_errors
from ...extensions import Blueprint
from ...extensions.database import statements_commit_alone
from ...services import diary
from ...services.access import CARE, PATIENT, actor, requires
from ..fields import unstorable_text
from .schemas import (
    BatchIn,
    BatchOut,
    EntryIn,
    EntryOut,
    EntryPageOut,
    EntryPatchIn,
    EntryQuery,
    EntryVersionOut,
    VoidIn,
    VoidQuery,
)

blp = Blueprint("entries", __name__, url_prefix="/api/v1/trials", description="Diary entries (the phone app).")


@blp.route("/<int:trial_id>/entries")
class Entries(MethodView):
    @statements_commit_alone  # record_entry writes one statement on PostgreSQL
    @requires(PATIENT, *CARE, session_checked_by_view=True)  # staff of the clinic get 403, strangers 404
    @blp.arguments(EntryIn)
    @blp.response(201, EntryOut, description="Stored.")
    @blp.alt_response(200, schema=EntryOut, description="Already stored with this content (a replay).")
    @blp.alt_response(409, description="Already stored with different content (`details.entry_id` is the stored "
                                        "entry), or the diary is closed (code trial_closed).")
    def post(self, data, trial_id):
        """Record one entry, idempotent on client_id"""
        entry, created = diary.record_entry(trial_id=trial_id, data=data)
        return entry, 201 if created else 200

    @requires(PATIENT, *CARE)
    @blp.arguments(EntryQuery, location="query")
    @blp.response(200, EntryPageOut)
    def get(self, query, trial_id):
        """Entries in order of last change, for sync (voided ones included and marked)"""
        return diary.list_entries(user=actor(), trial_id=trial_id, **query)


@blp.route("/<int:trial_id>/entries/batch")
class EntryBatch(MethodView):
    @requires(PATIENT, *CARE)  # staff of the clinic get 403 from the service, strangers 404
    @blp.arguments(BatchIn)
    @blp.response(200, BatchOut)
    @blp.alt_response(409, description="The diary is closed (code trial_closed), or another upload of the same "
                                        "entries was being stored: send the batch again.")
    def post(self, data, trial_id):
        """Record up to 500 entries; each gets its own result (created, duplicate, conflict, invalid)"""
        return {"results": diary.record_batch(user=actor(), trial_id=trial_id, items=_batch_items(data["entries"]))}


@blp.route("/<int:trial_id>/entries/<int:entry_id>")
class EntryById(MethodView):
    @requires(PATIENT, *CARE)
    @blp.response(200, EntryOut)
    def get(self, trial_id, entry_id):
        """One entry"""
        return diary.get_entry(user=actor(), trial_id=trial_id, entry_id=entry_id)

    @requires(PATIENT, *CARE)  # staff of the clinic get 403 from the service, strangers 404
    @blp.arguments(EntryPatchIn)
    @blp.response(200, EntryOut)
    @blp.alt_response(409, description="The entry was voided, or the diary is closed (code trial_closed).")
    def patch(self, data, trial_id, entry_id):
        """Correct an entry: the fields sent replace those stored; the previous version is kept"""
        return diary.correct_entry(user=actor(), trial_id=trial_id, entry_id=entry_id, changes=data)

    @requires(PATIENT, *CARE)  # staff of the clinic get 403 from the service, strangers 404
    @blp.arguments(VoidQuery, location="query")
    @blp.response(200, EntryOut)
    @blp.alt_response(409, description="The diary is closed (code trial_closed).")
    @blp.alt_response(413, description="The body (the reason) is larger than the server accepts.")
    def delete(self, query, trial_id, entry_id):
        """Void an entry with a reason ({"reason": ...} body or ?reason=): kept, left out of evaluation"""
        reason = query.get("reason") or _reason_from_body()
        return diary.void_entry(user=actor(), trial_id=trial_id, entry_id=entry_id, reason=reason)


@blp.route("/<int:trial_id>/entries/<int:entry_id>/versions")
class EntryVersions(MethodView):
    @requires(PATIENT, *CARE)
    @blp.response(200, EntryVersionOut(many=True))
    def get(self, trial_id, entry_id):
        """Earlier versions of a corrected entry, oldest first"""
        return diary.entry_versions(user=actor(), trial_id=trial_id, entry_id=entry_id)


def _batch_items(raw_entries: list) -> list[diary.BatchItem]:
    schema = EntryIn()
    items = []
    for raw in raw_entries:
        client_id = str(raw.get("client_id")) if isinstance(raw, dict) and raw.get("client_id") is not None else None
        if isinstance(raw, dict) and (unstorable := unstorable_text(raw)):
            items.append(diary.BatchItem(client_id if not unstorable.get("client_id") else None, errors=unstorable))
            continue
        try:
            items.append(diary.BatchItem(client_id, data=schema.load(raw)))
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            items.append(diary.BatchItem(client_id, errors=named_errors(messages)))
    return items


def _reason_from_body() -> str:
    from flask import request

    body = request.get_json(silent=True)
    try:
        return VoidIn().load(body if isinstance(body, dict) else {})["reason"]
    except ValidationError as error:
        raise Invalid("A reason is required to void an entry.", errors=error.messages) from error
