"""A compiled first pass over request bodies: most bodies are valid, and proving that
with code generated from the schema (fastjsonschema) costs a few microseconds, where
openapi-core's validator walks the schema for every body.

The compiled check only ever *accepts*: a body it accepts is valid by openapi-core's
validator too, and a body it refuses goes to openapi-core, which finds (and words) the
errors or, where the two disagree, accepts it. To keep "accepted here ⇒ valid there",
the schema is translated only where the translation is at least as strict as OpenAPI
3.0's reading; anything else makes ``compile_acceptor`` return None (no first pass):

- draft 4's keywords (not ``multipleOf``: float arithmetic), read as fastjsonschema's draft 4 reads them (its ``integer`` takes
  no ``1.0``; its ``$`` is the end of the text, not before a final newline);
- ``nullable: true`` next to a ``type`` becomes ``[type, "null"]``; elsewhere it is
  dropped (the subschemas' types then refuse ``null``);
- ``format``: the string formats with the very checks openapi-core makes, ``int32`` and
  ``int64`` as bounds; any other format, no first pass;
- ``enum`` of strings and ``null`` only (a Python ``in`` would take ``True`` for ``1``);
- ``pattern`` only where openapi-core uses Python's ``re`` too (not with ``regress``);
- annotations (``description``, ``example``, ``default``, ``x-…``) are left out;
  ``readOnly``, ``writeOnly``, ``discriminator`` and unknown keywords: no first pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import fastjsonschema
from jsonschema import FormatChecker

_ANNOTATIONS = {"description", "example", "examples", "default", "title", "deprecated", "externalDocs", "xml"}
_SUBSCHEMA = {"items", "additionalProperties", "not"}
_SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
_PLAIN = {
    "type", "required", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minProperties", "maxProperties",
}
_INTEGER_FORMATS = {"int32": 31, "int64": 63}
_STRING_FORMATS = {"date-time", "date", "time", "uuid", "email", "ipv4", "ipv6", "byte", "password", "regex"}


class _Unsupported(Exception):
    """The schema says something the translation cannot say as strictly."""


def _translate(schema: Any, formats: set[str], python_patterns: bool) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise _Unsupported(repr(schema))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-") or key == "nullable":
            continue
        if key in _PLAIN:
            if key == "type" and not isinstance(value, str):
                raise _Unsupported("type")
            out[key] = value
        elif key == "properties":
            out[key] = {name: _translate(sub, formats, python_patterns) for name, sub in value.items()}
        elif key in _SUBSCHEMA:
            out[key] = value if isinstance(value, bool) else _translate(value, formats, python_patterns)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_translate(sub, formats, python_patterns) for sub in value]
        elif key == "enum":
            if not all(item is None or isinstance(item, str) for item in value):
                raise _Unsupported("enum")
            out[key] = list(value)
        elif key == "pattern":
            if not python_patterns:
                raise _Unsupported("pattern")
            out[key] = value
        elif key == "format":
            if value in _INTEGER_FORMATS:
                bits = _INTEGER_FORMATS[value]
                out["x-format-bounds"] = (-(2**bits), 2**bits - 1)  # openapi-core's; merged with the schema's own below
            elif value in _STRING_FORMATS:
                formats.add(value)
                out[key] = value
            else:
                raise _Unsupported(f"format {value}")
        else:
            raise _Unsupported(key)
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    bounds = out.pop("x-format-bounds", None)
    if bounds is not None:
        low, high = bounds
        out["minimum"] = max(low, out["minimum"]) if "minimum" in out else low
        out["maximum"] = min(high, out["maximum"]) if "maximum" in out else high
    return out


# A value in a format's usual spelling, which openapi-core's check accepts too: accepted
# without running that check (for a UUID, it builds a uuid.UUID). Other spellings it may
# also accept (braces, a `urn:uuid:` prefix) go through the check itself.
_USUAL_SPELLING = {
    "uuid": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
}


def _format_check(name: str, format_checker: FormatChecker) -> Callable[[str], bool]:
    usual = _USUAL_SPELLING.get(name)
    if usual is None:
        return lambda value: format_checker.conforms(value, name)
    return lambda value: usual.fullmatch(value) is not None or format_checker.conforms(value, name)


def compile_acceptor(schema: dict[str, Any], format_checker: FormatChecker, python_patterns: bool = True) -> Callable[[Any], bool] | None:
    """A function that returns True for a body it proves valid against ``schema`` (an
    OpenAPI 3.0 schema, dereferenced), False when it cannot; None when the schema cannot
    be translated strictly enough. ``format_checker``: openapi-core's, whose checks are
    used for string formats; ``python_patterns``: whether openapi-core matches ``pattern``
    with Python's ``re`` (it does unless the ``regress`` package is installed)."""
    formats: set[str] = set()
    try:
        translated = _translate(schema, formats, python_patterns)
    except _Unsupported:
        return None
    translated["$schema"] = "http://json-schema.org/draft-04/schema#"
    checks = {name: _format_check(name, format_checker) for name in formats}
    try:
        validate = fastjsonschema.compile(translated, formats=checks, use_default=False, detailed_exceptions=False)
    except Exception:  # noqa: BLE001 - e.g. a pattern fastjsonschema rewrites into one `re` refuses
        return None

    def accepts(body: Any) -> bool:
        try:
            validate(body)
        except Exception:  # noqa: BLE001 - a refusal or a body too deep to check here: openapi-core decides
            return False
        return True

    return accepts
