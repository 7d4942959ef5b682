"""The OpenAPI document, compiled once for serving.

At start-up every operation of the document becomes a ``CompiledOperation``: its route
pattern, its scope (``x-required-scope``), and an openapi-core schema validator for
each parameter and for the request body, built from the dereferenced schema so that a
request costs validation only, not spec navigation; in front of each validator, a first
pass compiled from the same schema (acceptance.py) that accepts the common valid values
in a microsecond or two. Routes, methods, scopes, defaults,
types and limits all come from the document; nothing about request shape is written
here by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jsonschema_path import SchemaPath
from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from openapi_core.validation.schemas.validators import SchemaValidator

try:  # whether openapi-core reads `pattern` with an ECMA engine (the optional `regress`) or Python's `re`
    from openapi_schema_validator._regex import has_ecma_regex
except ImportError:  # a version without it: assume not Python's, so patterns get no first pass
    def has_ecma_regex() -> bool:
        return True

from segmentation_contract import dereference, iter_operations, load_spec, operation_parameters, route_pattern

from .acceptance import compile_acceptor


def _validator(schema: dict[str, Any]) -> SchemaValidator:
    path = SchemaPath.from_dict(schema)
    return oas30_write_schema_validators_factory.create(path, path)


def _acceptor(schema: dict[str, Any], validator: SchemaValidator) -> Callable[[Any], bool] | None:
    """The compiled first pass over values of ``schema`` (acceptance.py), with the format
    checks and the regex engine of ``validator``."""
    return compile_acceptor(schema, validator.validator.format_checker, python_patterns=not has_ecma_regex())


@dataclass(frozen=True)
class CompiledParameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    schema: dict[str, Any]
    validator: SchemaValidator = field(repr=False, compare=False)
    accepts: Callable[[Any], bool] | None = field(default=None, repr=False, compare=False)  # see acceptance.py

    @property
    def type(self) -> str:
        return self.schema.get("type", "string")

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    @property
    def maximum(self) -> int | None:
        return self.schema.get("maximum")


@dataclass(frozen=True)
class CompiledOperation:
    operation_id: str
    method: str
    path: str
    scope: str
    statuses: frozenset[str]
    parameters: tuple[CompiledParameter, ...]
    body: SchemaValidator | None = field(repr=False, compare=False)
    unscoped_delete: str | None = None
    body_schema: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # dereferenced
    concurrency_limit: int | None = None
    accepts_body: Callable[[Any], bool] | None = field(default=None, repr=False, compare=False)  # see acceptance.py
    path_parameters: tuple[CompiledParameter, ...] = field(init=False, repr=False, compare=False)
    query_parameters: tuple[CompiledParameter, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_parameters", tuple(p for p in self.parameters if p.location == "path"))
        object.__setattr__(self, "query_parameters", tuple(p for p in self.parameters if p.location == "query"))


@dataclass(frozen=True)
class Route:
    path: str
    pattern: re.Pattern[str]
    operations: dict[str, CompiledOperation]  # METHOD -> operation

    @property
    def allowed(self) -> list[str]:
        return list(self.operations)


class Contract:
    """Every operation of the document, and the router that finds them."""

    def __init__(self, spec: dict[str, Any] | None = None):
        self.spec = spec if spec is not None else load_spec()
        routes: dict[str, dict[str, CompiledOperation]] = {}
        for path, method, operation in iter_operations(self.spec):
            routes.setdefault(path, {})[method] = self._compile(path, method, operation)
        self.routes = [Route(path, route_pattern(path), ops) for path, ops in routes.items()]
        self.by_id = {op.operation_id: op for route in self.routes for op in route.operations.values()}

    def _compile(self, path: str, method: str, operation: dict[str, Any]) -> CompiledOperation:
        parameters = tuple(
            CompiledParameter(
                name=p["name"],
                location=p["in"],
                required=p.get("required", False),
                schema=(schema := dereference(self.spec, p["schema"])),
                validator=(validator := _validator(schema)),
                accepts=_acceptor(schema, validator),
            )
            for p in operation_parameters(self.spec, path, method)
        )
        body = body_schema = accepts_body = None
        if "requestBody" in operation:
            media = operation["requestBody"]["content"]["application/json"]
            body_schema = dereference(self.spec, media["schema"])
            body = _validator(body_schema)
            accepts_body = _acceptor(body_schema, body)
        return CompiledOperation(
            operation_id=operation["operationId"],
            method=method,
            path=path,
            scope=operation["x-required-scope"],
            statuses=frozenset(operation["responses"]),
            parameters=parameters,
            body=body,
            unscoped_delete=operation.get("x-unscoped-delete"),
            concurrency_limit=operation.get("x-concurrency-limit"),
            body_schema=body_schema,
            accepts_body=accepts_body,
        )

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None

