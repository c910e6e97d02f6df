"""Stable identity of the exported resources: the same record gives the same `id`, `fullUrl` and business
`identifier` on every export, so an EHR that files a later export updates what it filed rather than duplicating it.

Ids are UUIDs derived from the clinic's public id (never a database id of another installation's namespace) and
the record's kind and key; each resource also carries that UUID as an identifier (system urn:ietf:rfc:3986), which
is what the transaction Bundle's conditional requests match on.
"""

from __future__ import annotations

import uuid
from typing import Any

from .terms import FHIR_VERSION, URI, US_CORE_VERSION

NAMESPACE = uuid.UUID("9a3c1f4e-5b7d-4c2a-8e1f-2d6b0a9c7e35")
# Resource types whose `identifier` is not a list of business identifiers (or that have none in R4).
WITHOUT_IDENTIFIER_LIST = frozenset({"Provenance", "Composition", "Bundle"})


def base_profile(resource_type: str) -> str:
    """The R4 resource's own definition, versioned: states the FHIR version the resource is written in."""
    return f"http://hl7.org/fhir/StructureDefinition/{resource_type}|{FHIR_VERSION}"


def us_core(name: str) -> str:
    return f"http://hl7.org/fhir/us/core/StructureDefinition/{name}|{US_CORE_VERSION}"


class Identity:
    def __init__(self, clinic_public_id: str):
        self.clinic_public_id = clinic_public_id

    def uuid(self, *key: Any) -> str:
        return str(uuid.uuid5(NAMESPACE, ":".join(map(str, (self.clinic_public_id, *key)))))

    def url(self, *key: Any) -> str:
        return f"urn:uuid:{self.uuid(*key)}"

    def identifier(self, *key: Any) -> dict[str, str]:
        return {"system": URI, "value": self.url(*key)}

    def resource(self, key: tuple, body: dict[str, Any], profile: str | None = None) -> tuple[str, dict[str, Any]]:
        """(fullUrl, resource) with its id, meta.profile and the identifier of `key` after any it already has."""
        kind = body["resourceType"]
        resource: dict[str, Any] = {"resourceType": kind, "id": self.uuid(*key),
                                    "meta": {"profile": [profile or base_profile(kind)]}}
        resource.update({name: value for name, value in body.items() if name != "resourceType"})
        if kind not in WITHOUT_IDENTIFIER_LIST:
            resource["identifier"] = [*body.get("identifier", ()), self.identifier(*key)]
        return self.url(*key), resource


def reference(url: str, display: str | None = None) -> dict[str, str]:
    return {"reference": url, **({"display": display} if display else {})}
