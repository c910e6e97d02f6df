"""The OpenAPI document, fuzzed by schemathesis with a staff token and a patient token (issue 10, finding 7): never
a server error, and every response as the document describes it (status, content type, body schema).

Bounded for CI: EXAMPLES generated requests per operation, each sent with both tokens, on both backends.
SCHEMATHESIS_EXAMPLES raises it for a longer run (the original review sent about 17,000 per token).
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

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
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
