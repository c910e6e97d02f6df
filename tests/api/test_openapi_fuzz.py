"""The OpenAPI document, fuzzed by schemathesis with a staff token and a patient token (issue 10, finding 7): never
a server error, and every response as the document describes it (status, content type, body schema).

Bounded for CI: EXAMPLES generated requests per operation, each sent with both tokens, on both backends. Then the
stateful phase: SCENARIOS sequences of up to STEPS linked calls (schemathesis infers the links from the document:
a trial created, then its entries, evaluations, exports...), each call with the token of the caller who would
make it. FUZZ=long runs both for longer (SCHEMATHESIS_EXAMPLES and SCHEMATHESIS_SCENARIOS set each; the original
review sent about 17,000 requests per token, and the second 62,000 with stateful links).
"""

from __future__ import annotations

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app

from ..conftest import sign_in

LONG = os.environ.get("FUZZ") == "long"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "300" if LONG else "15"))
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "1000" if LONG else "30"))
STEPS = 8 if LONG else 5
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
METHODS = ("get", "post", "put", "patch", "delete")


def _operations() -> list[tuple[str, str]]:
    """Every documented operation, read from the document itself (the same on every backend)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/spec.sqlite",
                          "INSTANCE_PATH": folder})
        paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item if method in METHODS]


OPERATIONS = _operations()


@pytest.fixture
def tokens(world):
    """One sign-in per caller for the whole operation, not one per generated request."""
    return {"staff": sign_in(world.client, world.nurse).token, "patient": sign_in(world.client, world.patient).token}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_as_documented(method, path, tokens, app):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def answers_as_documented(case):
        for token in tokens.values():
            response = case.call(headers={"Authorization": f"Bearer {token}"}, app=app)
            case.validate_response(response, checks=CHECKS)

    answers_as_documented()


def test_linked_operations_answer_as_documented(tokens, app):
    """The stateful phase: chains of calls where each uses what an earlier one answered (ids, above all)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    calls: list[tuple[str, str, int]] = []

    class LinkedCalls(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            # The diary is the patient's to write (staff get 403 there); everything else is the nurse's.
            caller = "patient" if "/entries" in case.path or case.path.startswith("/api/v1/me") else "staff"
            return {"headers": {"Authorization": f"Bearer {tokens[caller]}"}, "app": app}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            calls.append((case.method, case.path, response.status_code))
            case.validate_response(response, checks=CHECKS)

    LinkedCalls.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                      derandomize=True, database=None, suppress_health_check=list(HealthCheck)))
    # The chains reached past their first call: ids an earlier answer gave were used by later ones.
    assert len(calls) > SCENARIOS and any(status < 300 and "{" in path for _, path, status in calls)
    print(f"stateful phase: {len(calls)} calls in {SCENARIOS} scenarios, "
          f"{len({(m, p) for m, p, _ in calls})} operations")
