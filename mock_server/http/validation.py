"""Turning a raw request into validated values, by the compiled contract.

What openapi-core's schema validators decide (types, ranges, lengths, patterns, UUIDs,
array sizes) is reported with the field at fault. Around them, the few rules of
BEHAVIOR.md section 3 about how raw query text is read:

- an integer query parameter is decimal digits only (``05`` is 5; ``+5``, `` 5``,
  ``1.5`` and the empty string are not), and its first occurrence counts;
- ``limit`` above its schema's ``maximum`` is "the limit parameter exceeded the
  maximum": 413, which outranks every 400 (another integer above its maximum is 400);
- an array parameter (``id:in``, ``include``) takes every occurrence, each split on
  commas; entries are trimmed of ASCII whitespace and empty entries dropped after
  validation;
- JSON bodies are strict: UTF-8, no ``NaN``/``Infinity``, no trailing data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from .contract import CompiledOperation, CompiledParameter

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# JSON's and YAML's escapes for a code point in the surrogate range (YAML also has \U0000D800).
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\\U0000[dD][89a-fA-F]")


def may_hold_surrogates(raw: bytes) -> bool:
    """Whether a body could decode (as JSON or YAML) to a lone surrogate: in UTF-8 only an
    escape can make one, so a body without such an escape needs no walk. Both parsers also
    read UTF-16 and UTF-32 (whose escapes the pattern would miss): a NUL byte, which such
    text always has, means a walk."""
    return b"\x00" in raw or _SURROGATE_ESCAPE_BYTES.search(raw) is not None


BLANKS = " \t\n\v\f\r"  # the document's whitespace: ASCII only


class RequestInvalid(Exception):
    """400: the request does not fit the document. ``errors``: field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("invalid request")
        self.errors = errors


class LimitExceeded(Exception):
    """413: a query parameter is above its maximum."""

    def __init__(self, name: str, maximum: int):
        super().__init__(name)
        self.name, self.maximum = name, maximum
        self.errors = {name: f"The maximum is {maximum}."}


@dataclass(frozen=True, slots=True)
class ValidRequest:
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any


@dataclass(frozen=True, slots=True)
class QueryReading:
    """A query string read by one operation's query parameters: the names it holds, the
    values (defaults filled in), and what is wrong with it (a parameter above its maximum:
    its name and the maximum; the exception is made anew for each request that raises it)."""

    names: frozenset[str]
    values: dict[str, Any]
    errors: dict[str, str]
    too_large: tuple[str, int] | None

    def fresh_values(self) -> dict[str, Any]:
        """The values, for one request (a reading is shared by every request that sends
        the same query string)."""
        return {name: list(value) if isinstance(value, list) else value for name, value in self.values.items()}


QUERY_READINGS_KEPT = 1024  # per operation; the remembered readings are dropped when there are this many
QUERY_READING_TEXT = 256  # only query strings this short are remembered


class QueryReadings:
    """What one app remembers of the query strings it was sent. Clients send the same few
    query strings again and again, so each short one's reading is kept, per operation (at
    most ``QUERY_READINGS_KEPT`` per operation, each at most ``QUERY_READING_TEXT``
    characters: ever-new or huge query strings cost no memory). Kept per app, not per
    process: a reading lives as long as the app that made it."""

    def __init__(self) -> None:
        self.by_operation: dict[str, dict[str, QueryReading]] = {}

    def read(self, operation: CompiledOperation, query_string: str, parse: Callable[[], Any]) -> QueryReading:
        """The operation's reading of ``query_string``; ``parse`` gives its MultiDict."""
        remembered = self.by_operation.get(operation.operation_id)
        if remembered is None:
            remembered = self.by_operation.setdefault(operation.operation_id, {})
        reading = remembered.get(query_string)
        if reading is None:
            reading = _read_query(operation, parse())
            if len(query_string) <= QUERY_READING_TEXT:
                if len(remembered) >= QUERY_READINGS_KEPT:
                    remembered.clear()
                remembered[query_string] = reading
        return reading


def _read_query(operation: CompiledOperation, query: Any) -> QueryReading:
    errors: dict[str, str] = {}
    too_large: tuple[str, int] | None = None
    values: dict[str, Any] = {}
    for parameter in operation.query_parameters:
        raw = query.getlist(parameter.name)
        if not raw:
            if parameter.required:
                errors[parameter.name] = f"`{parameter.name}` is required."
            elif parameter.default is not None:
                values[parameter.name] = parameter.default
            continue
        try:
            values[parameter.name] = _read_parameter(parameter, raw)
        except LimitExceeded as exc:
            too_large = too_large or (exc.name, exc.maximum)
        except RequestInvalid as exc:
            errors.update(exc.errors)
    return QueryReading(frozenset(query.keys()), values, errors, too_large)


def validate_request(
    operation: CompiledOperation,
    path_args: Mapping[str, str],
    query: QueryReading,
    body: bytes | None,
) -> ValidRequest:
    errors: dict[str, str] = {}
    path_values: dict[str, Any] = {}
    for parameter in operation.path_parameters:
        try:
            path_values[parameter.name] = _read_parameter(parameter, [path_args[parameter.name]])
        except RequestInvalid as exc:
            errors.update(exc.errors)
    if query.too_large is not None:  # 413 outranks every 400
        raise LimitExceeded(*query.too_large)
    errors.update(query.errors)
    if errors:
        raise RequestInvalid(errors)
    parsed_body = None
    if operation.body is not None:
        parsed_body = parse_json(body or b"")
        _check_cheaply_first(operation.body_schema or {}, parsed_body)
        accepts = operation.accepts_body  # the compiled first pass: a body it accepts needs no more
        if accepts is None or not accepts(parsed_body):
            body_errors = _schema_errors(operation.body, parsed_body, prefix="")
            if body_errors:
                raise RequestInvalid(body_errors)
    return ValidRequest(path_values, query.fresh_values(), parsed_body)


def _read_parameter(parameter: CompiledParameter, raw: list[str]) -> Any:
    name = parameter.name
    if parameter.type == "integer":
        text = raw[0]  # the first occurrence counts; later ones are not read
        if not (text.isascii() and text.isdigit()):  # [0-9]+, without a regex
            raise RequestInvalid({name: f"`{name}` must be a positive integer written in decimal digits."})
        value = int(text)
        if parameter.location == "query" and name == "limit" and parameter.maximum is not None and value > parameter.maximum:
            raise LimitExceeded(name, parameter.maximum)  # any other integer above its maximum is a plain 400 below
    elif parameter.type == "array":
        value = [entry for text in raw for entry in text.split(",")]
    else:
        value = raw[0]
    if parameter.accepts is None or not parameter.accepts(value):  # the compiled first pass, then the words
        errors = _schema_errors(parameter.validator, value, prefix=name)
        if errors:
            raise RequestInvalid(errors)
    if parameter.type == "array":
        value = [entry.strip(BLANKS) for entry in value if entry.strip(BLANKS)]
    return value


def _check_cheaply_first(schema: dict[str, Any], body: Any) -> None:
    """What makes a body invalid and costs nothing to see, checked before the full schema:
    too many items, and items of the wrong type where ``uniqueItems`` would compare every
    pair (deep equality of n objects is quadratic). The schema check that follows then
    sees at most ``maxItems`` items of the right type, so validation stays linear."""
    if schema.get("type") != "array" or not isinstance(body, list):
        return
    max_items = schema.get("maxItems")
    if max_items is not None and len(body) > max_items:
        raise RequestInvalid({"body": f"At most {max_items} items; this body has {len(body)}."})
    wanted = {"string": str, "object": dict, "integer": int}.get((schema.get("items") or {}).get("type", ""))
    if schema.get("uniqueItems") and wanted is not None:
        for index, item in enumerate(body):
            if not isinstance(item, wanted) or isinstance(item, bool):
                raise RequestInvalid({str(index): f"{json.dumps(item)[:100]} is not of type '{(schema['items'])['type']}'"})


def check_encodable(value: Any, where: str = "body") -> None:
    """Every string (and key) must be encodable as UTF-8: JSON's `\\ud800` escapes can
    produce a lone surrogate, which no answer could carry. Refused before any write."""
    stack = [(value, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise RequestInvalid({path: "The text holds a lone surrogate (an escape like \\ud800), which is not valid Unicode."}) from None
        elif isinstance(node, dict):
            for key, child in node.items():
                stack.append((key, path))
                stack.append((child, f"{path}.{key}" if isinstance(key, str) and key.isprintable() else path))
        elif isinstance(node, list):
            stack.extend((child, f"{path}.{index}") for index, child in enumerate(node))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestInvalid({"body": f"The body is not valid UTF-8 (byte {exc.start})."}) from None
    if not text.strip():
        raise RequestInvalid({"body": "A JSON body is required."})
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise RequestInvalid({"body": "The JSON body is nested too deeply."}) from None
    except ValueError as exc:
        raise RequestInvalid({"body": f"Malformed JSON: {exc}."}) from None
    if _SURROGATE_ESCAPE.search(text):  # only such an escape can make a lone surrogate
        check_encodable(parsed)
    return parsed


def _schema_errors(validator, value: Any, prefix: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in validator.validator.iter_errors(value):
        key = _error_key(error, prefix)
        errors[key] = f"{errors[key]}; {error.message}" if key in errors else error.message
    return errors


def _error_key(error: ValidationError, prefix: str) -> str:
    parts = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            parts.append(missing[0])
    if prefix:
        parts.insert(0, prefix)
    return ".".join(parts) if parts else "body"
