"""The OpenAPI document, checked by Schemathesis: every operation with generated valid
and invalid data, then stateful sequences that follow the document's links."""

from __future__ import annotations

import hypothesis.core
import pytest
from hypothesis import HealthCheck, seed, settings

from conformance.fuzz import ChoiceJudge, load_schema, run_workflow, send
from conformance.fuzz import checks as doc_checks
from conformance.plugin import COLLECTION_SETTINGS

schema = load_schema(COLLECTION_SETTINGS["api_base"])  # the target's base: reproduce lines name it
MAX_EXAMPLES = COLLECTION_SETTINGS["max_examples"]
SEED = COLLECTION_SETTINGS["seed"]  # --seed: the same seed, target and state give the same requests
# Built on Hypothesis's "default" profile, not the loaded one: with CI=true in the environment
# Hypothesis loads its "ci" profile (derandomize=True), which would replace --seed with a seed
# of its own for the stateful phase and change what a run sends between a laptop and CI.
BASE = settings.get_profile("default")
FUZZ_SETTINGS = settings(
    BASE,
    max_examples=MAX_EXAMPLES,
    derandomize=False,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


JUDGE = ChoiceJudge(COLLECTION_SETTINGS["api_base"])
MAX_NOTES = 3


@pytest.mark.rule("SCHEMA")
@schema.parametrize()
@FUZZ_SETTINGS
@seed(SEED)
def test_operation_conforms_to_the_document(case, api, checks):
    """DOC level: the document without the mock's CHOICEs must hold. Where the target
    departs from the mock's own choices, a SHOULD note (at most a few per operation)."""
    unprovable = api.guard.unprovable_create(case.method, case.path)
    if unprovable:  # every generated request would be refused: say so at once instead of drawing them
        pytest.skip(f"not run: {unprovable}")
    response = send(case, api)
    for note in JUDGE.notes(case, response):
        if note not in checks.warnings and len(checks.warnings) < MAX_NOTES:
            checks.should(False, note)
    case.validate_response(response, checks=doc_checks())


@pytest.mark.rule("SCHEMA")
def test_stateful_sequences_through_the_links(api, checks):
    stateful = settings(
        BASE,
        derandomize=False,
        max_examples=max(3, MAX_EXAMPLES // 3),
        stateful_step_count=8,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    notes: list[str] = []
    # The state machine is run by Hypothesis itself, out of reach of @seed: its seed is the global one.
    saved, hypothesis.core.global_force_seed = hypothesis.core.global_force_seed, SEED
    try:
        run_workflow(load_schema(api.base_url), api, stateful, JUDGE, notes)
    finally:
        hypothesis.core.global_force_seed = saved
        for note in notes[:MAX_NOTES]:
            checks.should(False, note)
