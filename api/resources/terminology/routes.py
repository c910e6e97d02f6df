"""The project's own FHIR code systems, served at their canonical URLs (public: definitions, no patient data)."""

import json

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import EXCLUDE, fields

from ...errors import NotFound
from ...exports import fhir
from ...extensions import Blueprint
from ...extensions.openapi import Out, one_of

blp = Blueprint("terminology", __name__, url_prefix="/api/v1/fhir",
                description="The code systems the FHIR export uses for what no standard code says.")


class ConceptOut(Out):
    code = fields.String()
    display = fields.String()
    definition = fields.String()


class CodeSystemOut(Out):
    class Meta:
        unknown = EXCLUDE
        description = "A FHIR R4 CodeSystem: https://hl7.org/fhir/R4/codesystem.html"

    resourceType = one_of(["CodeSystem"])  # noqa: N815 (FHIR's name)
    url = fields.String(metadata={"description": "Its canonical URL: this address."})
    name = fields.String()
    status = one_of(["active"])
    content = one_of(["complete"])
    concept = fields.List(fields.Nested(ConceptOut))


@blp.route("/CodeSystem/<name>")
class CodeSystem(MethodView):
    @blp.without_database
    @blp.doc(security=[])
    @blp.response(200, CodeSystemOut, content_type=fhir.CONTENT_TYPE, description="The CodeSystem")
    def get(self, name):
        """One of the export's own code systems (diary-measure, symptom, trial-evaluation...)"""
        system = fhir.CODE_SYSTEMS.get(name)
        if system is None:
            raise NotFound(f"No code system named {name!r}; the code systems are {', '.join(fhir.CODE_SYSTEMS)}.")
        resource = fhir.code_system(fhir.fhir_base(current_app.config["PUBLIC_BASE_URL"]), system)
        return Response(json.dumps(resource), content_type=fhir.CONTENT_TYPE,
                        headers={"Cache-Control": "public, max-age=3600"})
