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

import copy
import json
import re
from typing import Any

import hypothesis
import hypothesis.errors
import jsonschema
import requests
import schemathesis
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.stateful import APIStateMachine

from segmentation_contract import doc_level, load_spec, operation_parameters, resolve_ref

from .client import ConformanceClient, SafetyGuard, UnsafeRequest
from .guard import BODY_ID_FIELDS, INTEGER, SAFE_METHODS, UUID, UUID_TEXT

# Generated URLs stay under 4 KB: HTTP servers commonly cap the request line (8 KB for
# nginx, 4 KB for gunicorn) and answer 414 before the API sees the request.
MAX_URL_BYTES = 4000
EMAIL = re.compile(r"[^@ \t\n\v\f\r]+@[^@ \t\n\v\f\r]+")

# What every implementation must do with a generated request (DOC), judged by the
# document at BEHAVIOR's DOC level (see ``tolerant_spec``).
CHECK_NAMES = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "use_after_free",
    "ensure_resource_availability",
]
def checks() -> list[Any]:
    load_all_checks()
    return [CHECK_REGISTRY.get_one(name) for name in CHECK_NAMES]


def tolerant_spec() -> dict[str, Any]:
    """The document at BEHAVIOR's DOC level (:func:`segmentation_contract.doc_level`):
    the mock's CHOICEs (`x-choice`: lengths, charsets, `page`/`limit` bounds) removed,
    any 4xx in the error envelope allowed on every operation, the Promotions
    reference's error shape allowed under `/promotions`. Generated requests are drawn
    from it, and responses judged by it: a CHOICE-level difference is never a DOC failure.
    Array query parameters are plain text lists (see below).
    """
    spec = doc_level(load_spec())
    # A query string carries only text: a type-mutated `id:in` entry arrives as a valid one,
    # so array query parameters are fuzzed as plain text lists.
    for parameter in spec["components"]["parameters"].values():
        if parameter["in"] == "query" and parameter["schema"].get("type") == "array":
            parameter["schema"]["items"] = {"type": "string"}
    return spec


def load_schema(api_base: str, spec: dict[str, Any] | None = None) -> Any:
    schema = schemathesis.openapi.from_dict(spec if spec is not None else tolerant_spec())
    schema.config.update(base_url=api_base)
    # The suite sends its own X-Auth-Token; generated or omitted tokens would only test auth, which the
    # behavioural rules AUTH and SCOPES cover.
    # Undefined query parameters are ignored (BEHAVIOR.md section 3), so an extra one is not invalid input.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    # Stateful sequences follow the document's own links only: inferred ones guess at fields
    # (a customer's nullable shopper_profile_id) that need not hold an ID.
    schema.config.phases.stateful.inference.algorithms = []
    # Invalid input may get any client error except "no such route" or an auth error, never a 2xx.
    schema.config.checks.negative_data_rejection.expected_statuses = ["400", "404", "405", "406", "409", "413", "415", "422"]
    # Whether valid input is accepted is judged by ChoiceJudge against the mock's document:
    # at the DOC level, another implementation may refuse what the mock accepts.
    return schema


class ChoiceJudge:
    """The mock's own, stricter document, where BEHAVIOR leaves a CHOICE. Against it, a
    target may differ three ways, each a SHOULD note for the caller, never a failure:
    it refuses a request the mock's document accepts (a 200-character name), it accepts
    one the mock's document refuses (a 256-character `last_name`), or its answer does
    not fit the mock's document (a `null` description). The mock itself draws no note."""

    def __init__(self, api_base: str):
        load_all_checks()
        self.spec = load_spec()
        self.schema = load_schema(api_base, self.spec)
        self.validator_cls = jsonschema.validators.validator_for({"$schema": "http://json-schema.org/draft-04/schema#"})
        self.document = _as_json_schema(copy.deepcopy(self.spec))

    def notes(self, case: Any, response: Any) -> list[str]:
        notes = []
        status = response.status_code
        problem = self.request_problem(case) if _positive(case) and 200 <= status < 300 else None
        if problem:
            notes.append(f"accepted ({status}) a request the mock's document refuses (BEHAVIOR's choice: {problem})")
        try:
            case.validate_response(response, checks=[CHECK_REGISTRY.get_one("unsupported_method")])
        except BaseException as difference:  # noqa: BLE001 - a check failure (an exception group) is a note
            if isinstance(difference, KeyboardInterrupt):
                raise
            notes.append(_first_line(difference))
        if 200 <= status < 300:
            try:
                self.schema[case.operation.path][case.method.upper()].validate_response(response)
            except BaseException as difference:  # noqa: BLE001
                if isinstance(difference, KeyboardInterrupt):
                    raise
                notes.append("the answer differs from the mock's document (BEHAVIOR's choice): " + _first_line(difference))
        return notes

    def request_problem(self, case: Any) -> str | None:
        """None when the mock's document accepts the request's JSON body and parameters;
        otherwise the first thing it refuses."""
        path, method = case.operation.path, case.method.lower()
        operation = self.document["paths"].get(path, {}).get(method)
        if operation is None:
            return "an undocumented method"
        checks = []
        body_schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
        if body_schema is not None and case.body is not None and not isinstance(case.body, (bytes, str)):
            checks.append(("the body", body_schema, case.body))
        for parameter in operation_parameters(self.document, path, method):
            where = {"query": case.query, "path": case.path_parameters}.get(parameter["in"]) or {}
            if parameter["name"] in where:
                value = _typed(where[parameter["name"]], resolve_ref(self.document, parameter["schema"]))
                checks.append((f"`{parameter['name']}`", parameter["schema"], value))
        for what, schema, value in checks:
            validator = self.validator_cls({**schema, "components": self.document["components"]})
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is not None:
                return f"{what}: {error.message[:160]}"
        return None


def _positive(case: Any) -> bool:
    generation = getattr(getattr(case, "meta", None), "generation", None)
    return str(getattr(generation, "mode", "positive")) == "positive"


def _typed(value: Any, schema: dict[str, Any]) -> Any:
    """A query or path value as the mock reads it: integers from decimal digits, lists
    from comma-separated text."""
    if schema.get("type") == "integer" and isinstance(value, str) and value.isdigit():
        return int(value)
    if schema.get("type") == "array" and not isinstance(value, list):
        return str(value).split(",")
    return value


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schemas as JSON Schema draft 4: `nullable` becomes a `null` type."""
    if isinstance(node, dict):
        if node.get("nullable") is True and "type" in node:
            node["type"] = [node["type"], "null"]
        return {k: _as_json_schema(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_json_schema(v) for v in node]
    return node


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip() and not line.strip().startswith("-")]
    text = " ".join(lines[:3]) or type(error).__name__
    return text[:300]


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
    if len(client.base_url) + len(path) > MAX_URL_BYTES:
        hypothesis.reject()  # a transport limit (414), not the API's behaviour
    try:
        return client.request(case.method.upper(), path, data=data, headers=headers)
    except UnsafeRequest:
        hypothesis.reject()


def run_workflow(schema: Any, client: ConformanceClient, settings: Any, judge: ChoiceJudge | None = None,
                 notes: list[str] | None = None) -> None:
    """Run the stateful sequences; a failure is reported as first seen, never as "flaky".
    CHOICE-level differences (``judge``) are added to ``notes``."""
    workflow = workflow_class(schema, client, judge, notes if notes is not None else [])
    try:
        workflow.run(settings=settings)
    except hypothesis.errors.Flaky:
        if workflow.first_failure is not None:
            raise workflow.first_failure from None
        # No check failed: Hypothesis only saw a replay diverge because a live server's state
        # is not reset between its examples. That says nothing about the target.


def workflow_class(schema: Any, client: ConformanceClient, judge: ChoiceJudge | None = None,
                   notes: list[str] | None = None) -> type[APIStateMachine]:
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
            if judge is not None and notes is not None:
                notes.extend(note for note in judge.notes(case, response) if note not in notes)
            try:
                case.validate_response(response, checks=checks())
            except Exception as failure:
                # A live server's state moves on, so Hypothesis' replay of a failing sequence
                # may diverge and be reported as "flaky": keep the real first failure.
                if type(self).first_failure is None:
                    type(self).first_failure = failure
                raise

    return SafeWorkflow
