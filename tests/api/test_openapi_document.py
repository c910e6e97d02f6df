"""The OpenAPI document as a phone team uses it (issue 20): Redocly CLI's recommended rules find nothing,
openapi-typescript types every object a client receives, and the same is checked on the document in Python; every
operation has a stable operationId (pinned in operation_ids.txt) and documents the errors its code can answer.

The Node tools are pinned in tools/package-lock.json and installed by scripts/bootstrap. Without node or the tools
these tests skip off CI, saying why; under CI=true they fail.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api import create_app
from api.extensions.openapi import Out, operation_id

from ..conftest import Documented, drain, entry, unavailable

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
OPERATION_IDS = Path(__file__).with_name("operation_ids.txt")
METHODS = ("get", "post", "put", "patch", "delete")
# String properties that name a closed vocabulary of the domain: each must be an enum (from the domain's tuple).
VOCABULARIES = {"status", "outcome", "severity", "rule", "therapy", "channel", "state", "role", "decision", "cause",
                "platform", "bucket", "next_step", "relief_measure", "region", "side", "agent", "unit", "route",
                "token_type", "keyword"}
# Free text under such a name: the region an image shows.
FREE_TEXT = {("Imaging", "region")}


@pytest.fixture(scope="module")
def built():
    """The application and its document, on a throwaway SQLite file (the document needs no tables)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/spec.sqlite",
                          "INSTANCE_PATH": folder})
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        yield app, document


@pytest.fixture(scope="module")
def document(built):
    return built[1]


@pytest.fixture(scope="module")
def document_file(document, tmp_path_factory):
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(document, indent=1))
    return path


def node_tool(name: str) -> Path:
    """A tool of tools/package.json, as scripts/bootstrap installed it."""
    if shutil.which("node") is None:
        unavailable("node is not installed: the OpenAPI tools of tools/package.json need Node 20 or later")
    tool = TOOLS / "node_modules" / ".bin" / name
    if not tool.exists():
        unavailable(f"{name} is not installed: run scripts/bootstrap (npm ci in tools/)")
    return tool


def run(tool: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
                   "NO_COLOR": "1"}
    return subprocess.run([str(tool), *arguments], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=120, check=False)


# --- tools this project did not write --------------------------------------------------------------------------


def test_redocly_recommended_rules_find_nothing(document_file):
    redocly = node_tool("redocly")
    answer = run(redocly, "lint", "--config", str(TOOLS / "redocly.yaml"), "--format=json", "--max-problems=1000",
                 str(document_file), cwd=document_file.parent)
    report = json.loads(answer.stdout)
    problems = [f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
                for p in report["problems"]]
    assert report["totals"]["errors"] == report["totals"]["warnings"] == 0, "\n".join(problems)
    assert answer.returncode == 0, answer.stderr[-2000:]


def test_openapi_typescript_types_every_object_a_client_receives(document_file):
    generator, compiler = node_tool("openapi-typescript"), node_tool("tsc")
    types = document_file.with_name("api.ts")
    generated = run(generator, str(document_file), "--output", str(types), cwd=document_file.parent)
    assert generated.returncode == 0, generated.stderr[-2000:]
    compiled = run(compiler, "--noEmit", "--strict", "--target", "es2022", str(types), cwd=document_file.parent)
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    untyped = _untyped_typescript(types.read_text())
    assert not untyped, (
        "openapi-typescript could not type these (fix the marshmallow field: a Nested schema, a List of a typed "
        "field, a Dict with typed values, an Either of typed alternatives, or an enum):\n" + "\n".join(untyped))


def _untyped_typescript(source: str) -> list[str]:
    """Where the generated types say `unknown` or an empty record, named by the path of members that leads there
    (components.schemas.TrialOut.baseline, operations.getTrialFhir.responses.200.content...).

    `[name: string]: unknown` is left alone: it is how openapi-typescript leaves a response's headers open."""
    found, names = [], []  # (indentation, member) of the members enclosing the current line
    for number, line in enumerate(source.splitlines(), 1):
        indent, text = len(line) - len(line.lstrip()), line.strip()
        while names and names[-1][0] >= indent:
            names.pop()
        match = re.match(r"^(?:export interface (\w+) \{|\s*(\[key: string\]|\"[^\"]+\"|[\w$]+)\??: )", line)
        if match is None:
            continue
        member = (match.group(1) or match.group(2)).strip('"')
        bare = re.sub(r'"[^"]*"', '""', text)  # an enum's value "unknown" (a patient's gender) is a type
        untyped = ("unknown" in bare and not text.startswith("[name: string]")) or "Record<string, never>" in text
        if untyped and names and names[0][1] in ("paths", "components", "operations"):
            found.append(f"{'.'.join([n for _, n in names] + [member])} (line {number}): {text}")
        if text.endswith("{"):
            names.append((indent, member))
    return found


# --- the same, checked in Python -------------------------------------------------------------------------------


def test_every_object_a_response_carries_is_typed(document):
    """Independent of openapi-typescript: every schema reachable from a response has a type (an object's properties
    typed, an array's items typed, `nullable` beside a `type`), and vocabularies are enums."""
    schemas = document["components"]["schemas"]
    problems: list[str] = []
    for where, schema in _response_schemas(document):
        _check(schema, where, problems)
    for name in _reachable(document, "responses"):
        _check(schemas[name], f"components.schemas.{name}", problems, vocabulary_of=name)
    assert not problems, "Untyped parts of responses:\n" + "\n".join(problems)


def _check(schema: dict, where: str, problems: list[str], vocabulary_of: str | None = None) -> None:
    if "$ref" in schema:
        return
    if "nullable" in schema and "type" not in schema:
        problems.append(f"{where}: nullable without a type")
    alternatives = [s for key in ("allOf", "anyOf", "oneOf") for s in schema.get(key, ())]
    for i, alternative in enumerate(alternatives):
        _check(alternative, f"{where} (alternative {i + 1})", problems)
    kind = schema.get("type")
    if kind is None and not alternatives:
        problems.append(f"{where}: no type (a Raw field? use a typed field or Either)")
    elif kind == "array":
        _check(schema.get("items") or {}, f"{where}[]", problems)
    elif kind == "object" and not alternatives:
        properties, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        if not properties and not isinstance(extra, dict) or extra == {} or extra is True:
            problems.append(f"{where}: a free-form object (a Dict field? use Nested, or a Dict with typed values)")
        if isinstance(extra, dict) and extra:
            _check(extra, f"{where}{{*}}", problems)
        for name, property_schema in properties.items():
            _check(property_schema, f"{where}.{name}", problems)
            enum_needed = (vocabulary_of and name in VOCABULARIES and (vocabulary_of, name) not in FREE_TEXT
                           and property_schema.get("type") == "string" and "format" not in property_schema)
            if enum_needed and "enum" not in property_schema:
                problems.append(f"{where}.{name}: a closed vocabulary without an enum: one_of(the domain's tuple) "
                                "(free text under this name: add it to FREE_TEXT in this test)")


def _response_schemas(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    yield f"{method.upper()} {path} {status} {media}", content.get("schema") or {}


def _reachable(document: dict, start: str) -> set[str]:
    """Component schemas reachable from the operations' responses ("responses") or request bodies ("requests")."""
    schemas, refs = document["components"]["schemas"], set()
    roots = []
    for item in document["paths"].values():
        for method in METHODS:
            operation = item.get(method, {})
            if start == "responses":
                roots += [r for r in operation.get("responses", {}).values()]
            elif "requestBody" in operation:
                roots.append(operation["requestBody"])
                roots += [p for p in operation.get("parameters", ())]
    if start == "responses":
        roots += list(document["components"].get("responses", {}).values())
    pending = [json.dumps(root) for root in roots]
    while pending:
        for name in re.findall(r'"#/components/schemas/([^"]+)"', pending.pop()):
            if name not in refs:
                refs.add(name)
                pending.append(json.dumps(schemas[name]))
    return refs


def test_response_schemas_document_what_is_always_present(built, document):
    """Every schema a response carries derives from Out (its fields `required` unless optional(...)), or is an
    input schema a response reuses (a trial's baseline, an entry's pain): then the input says what is required."""
    app, _ = built
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    classes = {name: key[0] for key, name in api.ma_plugin.converter.refs.items()}
    inputs = _reachable(document, "requests")
    wrong = sorted(f"{name} ({classes[name].__module__}.{classes[name].__qualname__})"
                   for name in _reachable(document, "responses")
                   if name in classes and name not in inputs and not issubclass(classes[name], Out))
    assert not wrong, ("These response schemas do not derive from api.extensions.openapi.Out, so the document lists "
                       "none of their fields as always present: derive them from Out and wrap the fields some "
                       "responses leave out in optional(...):\n" + "\n".join(wrong))


# --- operationIds and documented errors --------------------------------------------------------------------------


def _operation_lines(document: dict) -> list[str]:
    return sorted((f"{method.upper()} {path} {operation['operationId']}"
                   for path, item in document["paths"].items()
                   for method, operation in item.items() if method in METHODS),
                  key=lambda line: (line.split()[1], METHODS.index(line.split()[0].lower())))


def test_operation_ids_are_unique_and_pinned(document):
    lines = _operation_lines(document)
    ids = [line.split()[-1] for line in lines]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeated, f"operationIds used twice: {repeated} (api/extensions/openapi.py derives them from routes)"
    if os.environ.get("UPDATE_OPERATION_IDS") == "1":
        OPERATION_IDS.write_text("\n".join(lines) + "\n")
    pinned = OPERATION_IDS.read_text().splitlines()
    difference = "\n".join(difflib.unified_diff(pinned, lines, "operation_ids.txt", "the document", lineterm=""))
    assert lines == pinned, (
        "The operationIds changed. A phone client's method names are these: a route added or renamed on purpose is "
        "pinned by running UPDATE_OPERATION_IDS=1 .venv/bin/python -m pytest -p no:xdist "
        "tests/api/test_openapi_document.py -k pinned, and committing tests/api/operation_ids.txt. A name that "
        "reads badly: a POST action's verb goes in api/extensions/openapi.py ACTIONS.\n" + difference)


@pytest.mark.parametrize(("method", "rule", "expected"), [
    ("get", "/api/v1/trials/<int:trial_id>/entries", "listTrialEntries"),
    ("post", "/api/v1/trials/<int:trial_id>/entries", "createTrialEntry"),
    ("get", "/api/v1/trials/<int:trial_id>", "getTrial"),
    ("patch", "/api/v1/trials/<int:trial_id>/entries/<int:entry_id>", "updateTrialEntry"),
    ("put", "/api/v1/clinic/readiness-requirements/<therapy>", "replaceClinicReadinessRequirement"),
    ("delete", "/api/v1/webhooks/<int:webhook_id>", "deleteWebhook"),
    ("post", "/api/v1/alerts/<int:alert_id>/acknowledge", "acknowledgeAlert"),
    ("post", "/api/v1/auth/login", "login"),
    ("post", "/api/v1/me/devices", "createMyDevice"),
    ("get", "/api/v1/me", "getMe"),
    ("post", "/api/v1/auth/sign-in-link", "createSignInLink"),
    ("get", "/api/v1/trials/<int:trial_id>/readiness", "getTrialReadiness"),
    ("get", "/api/v1/trials/<int:trial_id>/entries.csv", "getTrialEntriesCsv"),
    ("get", "/api/v1/monitoring/trials", "listMonitoringTrials"),
])
def test_an_operation_id_is_the_method_and_the_route(method, rule, expected):
    assert operation_id(method, rule) == expected


def _errors(document: dict, method: str, path: str) -> set[int]:
    return {int(s) for s in document["paths"][path][method]["responses"] if s[0] in "45"}


def test_each_operation_documents_the_errors_its_code_can_answer(document):
    every = {(method, path) for path, item in document["paths"].items() for method in item if method in METHODS}
    for method, path in every:
        operation = document["paths"][path][method]
        errors = _errors(document, method, path)
        public = operation.get("security") == []
        assert 422 in errors, (method, path)  # unknown query parameters, everywhere
        assert (401 in errors) != public, (method, path)
        assert (404 in errors) == ("{" in path), (method, path)
        json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
        assert (400 in errors) == json_body, (method, path)  # a form body (Twilio's callbacks) is never "not JSON"
        assert (413 in errors) == ("requestBody" in operation or (method, path) == (
            "delete", "/api/v1/trials/{trial_id}/entries/{entry_id}")), (method, path)  # a void's reason body
        for status in errors - ({503} if path == "/api/v1/readyz" else set()):  # its own body: which check failed
            response = operation["responses"][str(status)]
            if "$ref" in response:
                response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    # The guard's roles mean 403; Flask-Limiter's limits 429; the database 503, except where nothing reads it.
    assert 403 in _errors(document, "get", "/api/v1/trials/{trial_id}")
    assert 403 not in _errors(document, "post", "/api/v1/auth/refresh")
    assert {429, 503} <= _errors(document, "post", "/api/v1/auth/login")
    assert 429 in _errors(document, "post", "/api/v1/auth/enroll")
    assert _errors(document, "get", "/api/v1/healthz") == {422}
    ready = document["paths"]["/api/v1/readyz"]["get"]["responses"]["503"]
    assert ready["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ReadyOut"}
    assert "Retry-After" in document["components"]["responses"]["SERVICE_UNAVAILABLE"]["headers"]
    # A conflict the service can raise is declared next to its route, and gets the Error schema.
    conflicts = {(m, p) for m, p in every if 409 in _errors(document, m, p)}
    assert ("post", "/api/v1/trials/{trial_id}/entries") in conflicts
    assert ("post", "/api/v1/alerts/{alert_id}/acknowledge") in conflicts
    assert ("get", "/api/v1/trials/{trial_id}") not in conflicts


def test_the_notification_enums_hold_every_cause_and_channel_written():
    from api.models.notification import CAUSES, CHANNELS
    from api.services import texting

    assert set(texting.SUBJECTS) <= set(CAUSES) and "sms" in CHANNELS


def test_the_document_says_where_it_is_served_and_under_which_terms(document):
    assert document["servers"] == [{"url": "/", "description": "This server: paths begin with /api/v1."}]
    assert document["info"]["license"]["name"] and document["info"]["license"]["url"]
    assert "Authorization: Bearer" in document["info"]["description"]
    assert "PaginationMetadata" not in document["components"]["schemas"]


# --- real answers, held to the document --------------------------------------------------------------------------


class Checked:
    """A signed-in caller whose every answer is held to the document (status listed, body as described)."""

    def __init__(self, caller, documented: Documented, ids: dict):
        self.caller, self.documented, self.ids = caller, documented, ids

    def __call__(self, method: str, template: str, status: int, **kwargs):
        answer = getattr(self.caller, method)(template.format(**self.ids), **kwargs)
        assert answer.status_code == status, (method, template, answer.get_json())
        self.documented.check(method, f"/api/v1{template}", answer)
        return answer.get_json()


def test_answers_of_every_kind_are_as_the_document_describes(world, app):
    """The shapes a fuzzer rarely reaches: evaluations of a trial and of a block (metrics, criteria with object
    values and thresholds), summaries, entries with every part, versions, batch results of every status, conflicts
    with their details, the worklist, the pathway, protocols, readiness and its requirements."""
    documented, ids = Documented(app), {"trial_id": world.trial_id, "patient_id": world.patient_id, "therapy": "scs"}
    nurse, patient = (Checked(who, documented, ids) for who in (world.as_nurse, world.as_patient))
    admin = Checked(world.as_admin, documented, ids)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    full = entry(start + timedelta(hours=30), 3, function={"interference": 4, "steps": 3000, "odi": 30},
                 medications=[{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}],
                 symptoms=["wound_redness"], temperature_c=37.2, sedation_score=1, pgic=2,
                 stimulation={"program": "B", "coverage_percent": 80, "satisfaction": 8}, note="A good day.")
    nurse("patch", "/trials/{trial_id}", 200, json={"end_at": (start + timedelta(days=7)).isoformat()})
    ids["entry_id"] = patient("post", "/trials/{trial_id}/entries", 201, json=full)["id"]
    conflict = patient("post", "/trials/{trial_id}/entries", 409, json={**full, "note": "Changed."})
    assert conflict["details"] == {"entry_id": ids["entry_id"]}
    batch = [entry(start + timedelta(hours=h), 4) for h in (6, 54)] + [full, {**full, "pgic": 9},
                                                                       {**full, "note": "Other."}]
    results = patient("post", "/trials/{trial_id}/entries/batch", 200, json={"entries": batch})["results"]
    assert [r["status"] for r in results] == ["created", "created", "duplicate", "invalid", "conflict"]
    patient("patch", "/trials/{trial_id}/entries/{entry_id}", 200, json={"pain": {"score": 2, "worst_24h": 5}})
    patient("get", "/trials/{trial_id}/entries/{entry_id}/versions", 200)
    patient("get", "/trials/{trial_id}/entries", 200)
    drain(app)
    for caller in (nurse, patient):
        caller("get", "/trials/{trial_id}/evaluations/latest", 200)
    nurse("get", "/trials/{trial_id}/summary", 200)
    nurse("get", "/monitoring/trials", 200)
    nurse("get", "/trials/{trial_id}/notifications", 200)
    ids["alert_id"] = nurse("get", "/alerts", 200)[0]["id"]
    nurse("post", "/alerts/{alert_id}/acknowledge", 200, json={"note": "Called."})
    assert set(nurse("post", "/alerts/{alert_id}/acknowledge", 409, json={})["details"]) == {
        "acknowledged_by", "acknowledged_at"}
    admin("put", "/clinic/readiness-requirements/{therapy}", 200, json={"overrides": {"require_imaging": False}})
    nurse("get", "/clinic/readiness-requirements", 200)
    nurse("put", "/trials/{trial_id}/documentation", 200, json={"indications": [{"code": "M96.1"}]})
    nurse("get", "/trials/{trial_id}/readiness", 200)
    nurse("get", "/protocols", 200)
    block = {"patient_id": world.patient_id, "therapy": "medial_branch_block", "agent": "lidocaine",
             "start_at": (start + timedelta(days=2)).isoformat(), "baseline": {"pain": 8},
             "target": {"region": "lumbar", "side": "left", "levels": ["L4-L5"]}}
    ids["block_id"] = nurse("post", "/trials", 201, json=block)["id"]
    scores = [entry(start + timedelta(days=2, minutes=m), score) for m, score in ((15, 1), (30, 1), (45, 0), (60, 1))]
    of_block = {**ids, "trial_id": ids["block_id"]}
    Checked(patient.caller, documented, of_block)("post", "/trials/{trial_id}/entries/batch", 200,
                                                 json={"entries": scores})
    drain(app)
    block_nurse = Checked(nurse.caller, documented, of_block)
    assert block_nurse("get", "/trials/{trial_id}/evaluations/latest", 200)["metrics"]["timepoints"] == 4
    block_nurse("get", "/trials/{trial_id}/summary", 200)
    nurse("get", "/patients/{patient_id}/pathway", 200)
    assert uuid.UUID(patient("get", "/trials/{trial_id}/entries/{entry_id}", 200)["client_id"])
