"""Schemathesis, made safe for real stores.

Generated writes pass the same fail-closed guard as the suite's own requests
(:mod:`conformance.guard`). Before that, :func:`make_safe` rewrites them so that most
can pass: every ID the run may not name (in the path, in `id:in`, anywhere in the body)
becomes a minted one — a random UUID or an integer that was not in the store — which
names nothing, so the request keeps its meaning (an unknown reference) and stays
harmless; a DELETE always carries an explicit `id:in`; and segment and promotion names
and customer emails carry the run's marker wherever that keeps them valid, so that the
end-of-run sweep can find what a request cut off by a signal created. A case the guard
still refuses is not sent (Hypothesis draws another). With ``--allow-destructive``
nothing is rewritten.
"""

from __future__ import annotations

import json
import re
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.stateful import APIStateMachine

from segmentation_contract import iter_operations, load_spec

from .client import ConformanceClient, SafetyGuard, UnsafeRequest
from .guard import BODY_ID_FIELDS, INTEGER, SAFE_METHODS, UUID, UUID_TEXT

EMAIL = re.compile(r"[^@ \t\n\v\f\r]+@[^@ \t\n\v\f\r]+")

CHECK_NAMES = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
]


def checks() -> list[Any]:
    load_all_checks()
    return [CHECK_REGISTRY.get_one(name) for name in CHECK_NAMES]


def tolerant_spec() -> dict[str, Any]:
    """The document, minus what BEHAVIOR lets implementations choose differently.

    `limit` above 250 is 413 in the mock, but clamping it to 250 is a reasonable choice
    (BEHAVIOR.md section 3): its maximum is dropped so that fuzzing does not call a
    clamping server wrong. The PAGE-LIMIT rule checks what every server must do. And
    every operation accepts any 4xx in the error envelope (``4XX``), since most error
    statuses are CHOICEs; the behavioural rules check the DOC ones. Array query
    parameters are plain text lists (see below).
    """
    spec = load_spec()
    spec["components"]["parameters"]["Limit"]["schema"].pop("maximum", None)
    # A query string carries only text: a type-mutated `id:in` entry arrives as a valid one,
    # so array query parameters are fuzzed as plain text lists.
    for parameter in spec["components"]["parameters"].values():
        if parameter["in"] == "query" and parameter["schema"].get("type") == "array":
            parameter["schema"]["items"] = {"type": "string"}
    # Where BEHAVIOR's status is a CHOICE, any 4xx in the platform's envelope will do (section 5).
    for _, _, operation in iter_operations(spec):
        operation["responses"].setdefault("4XX", {"$ref": "#/components/responses/BadRequest"})
    return spec


def load_schema(api_base: str) -> Any:
    schema = schemathesis.openapi.from_dict(tolerant_spec())
    schema.config.update(base_url=api_base)
    # The suite sends its own X-Auth-Token; generated or omitted tokens would only test auth, which the
    # behavioural rules AUTH and SCOPES cover.
    # Undefined query parameters are ignored (BEHAVIOR.md section 3), so an extra one is not invalid input.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    # Stateful sequences follow the document's own links only: inferred ones guess at fields
    # (a customer's nullable shopper_profile_id) that need not hold an ID.
    schema.config.phases.stateful.inference.algorithms = []
    # Invalid input may get any client error the document lists (413 for `limit` above 250, 422 for
    # a validation error where another implementation chose it), never a 2xx.
    schema.config.checks.negative_data_rejection.expected_statuses = documented_client_errors()
    # Valid input may still refer to what does not exist (404, 422), collide (409), or ask for a
    # page larger than the server serves (413): what it must never get is a 400-style rejection.
    schema.config.checks.positive_data_acceptance.expected_statuses = ["2XX", "404", "409", "413", "422"]
    return schema


def documented_client_errors() -> list[str]:
    statuses = {
        status
        for _, _, operation in iter_operations(load_spec())
        for status in operation["responses"]
        if status.startswith("4")
    }
    return sorted(statuses | {"405"})


def make_safe(case: Any, guard: SafetyGuard) -> None:
    """Rewrite a generated write in place so that the guard can let it through: every ID
    it names that the run may not name becomes a minted one (a random UUID, or an integer
    that was not in the store), a DELETE always carries an explicit `id:in`, and free
    text that a valid value can carry gets the run's marker (see module doc)."""
    method = case.method.upper()
    if guard.allow_destructive or method in SAFE_METHODS:
        return
    route = next((r for r in guard.routes if r.template == case.operation.path), None)
    if route is None:
        return
    for name, value in list((case.path_parameters or {}).items()):
        collection, kind = route.id_params.get(name, (route.collection, UUID))
        if not guard.may_name(collection, value, kind):
            case.path_parameters[name] = _minted(guard, collection, kind)
    if method == "DELETE" and "id:in" in route.query_names.get("DELETE", ()):
        query = case.query if case.query is not None else {}
        value = query.get("id:in")
        entries = value if isinstance(value, list) else ([] if value is None else str(value).split(","))
        kind = INTEGER if route.collection in guard.ledger.integer_collections else UUID
        kept = [str(e) for e in entries if guard.may_name(route.collection, e, kind)]
        query["id:in"] = kept or [str(_minted(guard, route.collection, kind))]
        case.query = query
    if case.body is not None and not isinstance(case.body, (bytes, str)):
        case.body = _safe_body(case.body, route, guard)


def _minted(guard: SafetyGuard, collection: str, kind: str) -> Any:
    return guard.absent_integer(collection) if kind == INTEGER else guard.fresh_uuid()


def _safe_body(node: Any, route: Any, guard: SafetyGuard, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {k: _safe_body(v, route, guard, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_safe_body(v, route, guard, key) for v in node]
    if isinstance(node, str) and UUID_TEXT.fullmatch(node.strip()) and not guard.ledger.may_name_uuid(node.strip().lower()):
        return guard.fresh_uuid()
    if isinstance(node, int) and not isinstance(node, bool) and node >= 1:
        collection = BODY_ID_FIELDS.get(key or "") or (route.collection if key == "id" else None)
        if collection in guard.ledger.integer_collections and not guard.ledger.may_name(collection, str(node)):
            return guard.absent_integer(collection)
    if isinstance(node, str) and guard.ledger.marker:
        return _marked(node, key, route.collection, guard.ledger.marker)
    return node


def _marked(text: str, key: str | None, collection: str, marker: str) -> str:
    """The run's marker in front of a valid name or email, where it keeps it valid."""
    if marker in text or not text.strip(" \t\n\v\f\r"):
        return text
    marked = f"{marker}-{text}"
    if len(marked) > 255:
        return text
    if key == "name" and collection in ("segments", "promotions"):
        return marked
    if key == "email" and collection == "customers" and EMAIL.fullmatch(text):
        return marked
    return text


def send(case: Any, client: ConformanceClient) -> Any:
    """Send a case through the suite's client (guard, journal, 429 handling).

    A case the guard still refuses after ``make_safe`` (an integer ID of a promotion the
    run did not create, which no random value can be sure to miss) is not sent:
    Hypothesis is told to draw another.
    """
    make_safe(case, client.guard)
    prepared = case.as_transport_kwargs(base_url=client.base_url)
    url = prepared["url"]
    path = url[len(client.base_url) :] if url.startswith(client.base_url) else url
    headers = {k: v for k, v in (prepared.get("headers") or {}).items() if k.lower() != "x-auth-token"}
    data = prepared.get("data")
    if data is None and prepared.get("json") is not None:
        data = json.dumps(prepared["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    if prepared.get("params"):
        encoded = requests.Request("GET", "http://query.invalid/", params=prepared["params"]).prepare().url
        path += ("&" if "?" in path else "?") + encoded.split("?", 1)[1]
    try:
        return client.request(case.method.upper(), path, data=data, headers=headers)
    except UnsafeRequest:
        hypothesis.reject()


def run_workflow(schema: Any, client: ConformanceClient, settings: Any) -> None:
    """Run the stateful sequences; a failure is reported as first seen, never as "flaky"."""
    workflow = workflow_class(schema, client)
    try:
        workflow.run(settings=settings)
    except hypothesis.errors.Flaky:
        if workflow.first_failure is not None:
            raise workflow.first_failure from None
        # No check failed: Hypothesis only saw a replay diverge because a live server's state
        # is not reset between its examples. That says nothing about the target.


def workflow_class(schema: Any, client: ConformanceClient) -> type[APIStateMachine]:
    base = schema.as_state_machine()

    class SafeWorkflow(base):  # type: ignore[misc, valid-type]
        first_failure: BaseException | None = None

        def teardown(self) -> None:
            """After each sequence, remove what it created, so every sequence starts alike."""
            client.delete_owned()

        def call(self, case, **kwargs):
            try:
                return Response.from_any(send(case, client))
            except Exception as failure:
                if type(self).first_failure is None:
                    type(self).first_failure = failure
                raise

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=checks())
            except Exception as failure:
                # A live server's state moves on, so Hypothesis' replay of a failing sequence
                # may diverge and be reported as "flaky": keep the real first failure.
                if type(self).first_failure is None:
                    type(self).first_failure = failure
                raise

    return SafeWorkflow
