"""The OpenAPI document, checked by Schemathesis: every operation with generated valid
and invalid data, then stateful sequences that follow the document's links."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from conformance.fuzz import checks, load_schema, run_workflow, send
from conformance.plugin import COLLECTION_SETTINGS

schema = load_schema(COLLECTION_SETTINGS["api_base"])  # the target's base: reproduce lines name it
MAX_EXAMPLES = COLLECTION_SETTINGS["max_examples"]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.rule("SCHEMA")
@schema.parametrize()
@FUZZ_SETTINGS
def test_operation_conforms_to_the_document(case, api):
    response = send(case, api)
    case.validate_response(response, checks=checks())


@pytest.mark.rule("SCHEMA")
def test_stateful_sequences_through_the_links(api):
    stateful = settings(
        max_examples=max(3, MAX_EXAMPLES // 3),
        stateful_step_count=8,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    run_workflow(load_schema(api.base_url), api, stateful)
