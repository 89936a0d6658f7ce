"""Fuzz the API from its own OpenAPI document: no 5xx, and every response
matches what the document says (status codes, content types and bodies).

schemathesis's pytest plugin does not support this pytest yet, so each
operation's Hypothesis strategy is driven directly.
"""

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.support.api import make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver

EXAMPLES_PER_OPERATION = 8
# Where a rule spans what JSON Schema can say, a schema-valid request may still get a 422 (which
# names the field): these operations are not held to "every schema-valid request is accepted".
RULES_BEYOND_THE_SCHEMA = {
    "PUT /api/v1/app/{app_id}/endpoint/{endpoint_id}/client-certificate": "a PEM certificate and its own key",
    "POST /ingest/api/v1/source": "config must carry the secret its type needs, in that type's format",
    "PUT /ingest/api/v1/source/{source_id}": "config must carry the secret its type needs, in that type's format",
    "POST /ingest/api/v1/source/{source_id}/replay": "until must be after since",
    "PATCH /ingest/api/v1/source/{source_id}": "allowedIps are networks in CIDR notation",
    "POST /api/v1/event-type": "featureFlag and featureFlags must agree",
    "PUT /api/v1/event-type/{event_type_name}": "featureFlag and featureFlags must agree",
    "PATCH /api/v1/event-type/{event_type_name}": "featureFlag and featureFlags must agree",
    "POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/send-example": "eventType known, exampleIndex in range",
    "POST /api/v1/app/{app_id}/msg": "deliverAt at most 30 days ahead",
    "POST /api/v1/environment/import": "filters, schemas and code follow their own grammars",
    "POST /api/v1/event-type/import/openapi": "exactly one of spec and specRaw, holding OpenAPI 3.1",
    "POST /api/v1/app/{app_id}/endpoint": "filter follows the filter grammar (docs/policies.md)",
    "PUT /api/v1/app/{app_id}/endpoint/{endpoint_id}": "filter follows the filter grammar (docs/policies.md)",
    "PATCH /api/v1/app/{app_id}/endpoint/{endpoint_id}": "filter follows the filter grammar (docs/policies.md)",
    "PATCH /api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation": "enabled needs code; no variables",
    "POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/filter/test": "filter follows the filter grammar",
    "POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation/simulate": "code given or stored",
}
# Reproducible in CI; set HOOKLINE_FUZZ_RANDOM=1 to explore new inputs locally.
DERANDOMIZE = os.environ.get("HOOKLINE_FUZZ_RANDOM") != "1"


def _fuzz(operation: Any) -> None:
    excluded = [positive_data_acceptance] if operation.label in RULES_BEYOND_THE_SCHEMA else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=DERANDOMIZE,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, excluded_checks=excluded)

    run()


def test_api_conforms_to_its_document(hookline: Hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        # Some real data, so generated requests sometimes reach existing rows.
        make_endpoint(c, receiver.url(), app_uid="fuzz")
        publish(c, "fuzz")
        c.post("/api/v1/event-type", json={"name": "user.created", "description": "x"})
    schema = schemathesis.openapi.from_url(f"{hookline.url}/api/v1/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    labels: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        labels.add(operation.label)
        try:
            _fuzz(operation)
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 30
    assert set(RULES_BEYOND_THE_SCHEMA) <= labels, set(RULES_BEYOND_THE_SCHEMA) - labels
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
