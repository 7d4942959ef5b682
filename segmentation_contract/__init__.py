"""The contract: where the OpenAPI document lives and how to read it.

The document's source is ``openapi/segmentation-v3.yaml`` at the repository root.
A built wheel carries a copy inside this package (``segmentation_contract/openapi/``),
so an installed distribution finds its spec without the source tree; an editable
install or a checkout reads the source file directly.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SPEC_FILENAME = "segmentation-v3.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_PACKAGE_DIR = Path(__file__).resolve().parent
_CANDIDATES = (
    _PACKAGE_DIR / "openapi" / SPEC_FILENAME,  # inside an installed wheel
    _PACKAGE_DIR.parent / "openapi" / SPEC_FILENAME,  # a checkout or editable install
)


def package_version() -> str:
    """The installed distribution's version, for both commands' ``--version``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bc-segmentation-harness")
    except PackageNotFoundError:  # pragma: no cover - running from a tree that is not installed
        return "unknown (not installed)"


def spec_path() -> Path:
    """Path of the OpenAPI document this installation uses."""
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(c) for c in _CANDIDATES)
    raise FileNotFoundError(f"OpenAPI document {SPEC_FILENAME} not found (looked in: {searched})")


@lru_cache(maxsize=1)
def _load_cached() -> dict[str, Any]:
    with spec_path().open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_spec() -> dict[str, Any]:
    """The parsed document, as a fresh copy the caller may change."""
    return copy.deepcopy(_load_cached())


def iter_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield ``(path, METHOD, operation)`` for every operation, in document order."""
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def operation_parameters(spec: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """Every parameter of an operation, path-level ones included, with ``$ref`` resolved."""
    item = spec["paths"][path]
    operation = item[method.lower()]
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = resolve_ref(spec, raw)
        merged[(parameter["in"], parameter["name"])] = parameter
    return list(merged.values())


def resolve_ref(spec: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (``#/a/b``) to its target; other nodes come back unchanged."""
    while isinstance(node, dict) and "$ref" in node:
        reference = node["$ref"]
        if not reference.startswith("#/"):
            raise ValueError(f"only local references are used in this document, not {reference!r}")
        node = spec
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def dereference(spec: dict[str, Any], node: Any) -> Any:
    """A copy of ``node`` with every local ``$ref`` inside it replaced by its target.

    The document has no recursive schemas, so the result is finite.
    """
    node = resolve_ref(spec, node)
    if isinstance(node, dict):
        return {key: dereference(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [dereference(spec, value) for value in node]
    return node


_TEMPLATE_VARIABLE = re.compile(r"\{([^}/]+)\}")


def route_pattern(template: str) -> re.Pattern[str]:
    """``/segments/{segmentId}/x`` → a regex with a named group per path variable."""
    parts = _TEMPLATE_VARIABLE.split(template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
    return re.compile(regex)


def route_rule(template: str) -> str:
    """``/segments/{segmentId}/x`` → ``/segments/<segmentId>/x`` (werkzeug's rule syntax:
    each variable one path segment, like ``route_pattern``'s groups)."""
    return _TEMPLATE_VARIABLE.sub(r"<\1>", template)


def find_operation(
    spec: dict[str, Any], method: str, path: str
) -> tuple[str, dict[str, Any], dict[str, str]] | None:
    """The operation a request targets: ``(template, operation, path values)``, or None.

    ``path`` is relative to the server URL (``/segments/...``).
    """
    for template in spec["paths"]:
        found = route_pattern(template).fullmatch(path)
        if found:
            operation = spec["paths"][template].get(method.lower())
            return (template, operation, found.groupdict()) if operation else None
    return None


# What BEHAVIOR leaves to each implementation, in the document: a schema's `x-choice`
# names the keywords that are the mock's CHOICE (`maxLength` of a name, a charset
# `pattern`, the `minimum` of `page`), and `nullable` where the mock never answers
# null but another implementation may.
CHOICE_KEY = "x-choice"

# The platform's Promotions reference answers errors as `{"errors": [{status, title, ...}]}`
# (the mock does, see `PromotionErrorResponse`); BEHAVIOR 9.2 lets an implementation use
# either that or the flat v3 envelope under /promotions.
PROMOTIONS_ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "required": ["status", "title"],
                      "properties": {"status": {"type": "integer"}, "title": {"type": "string"}}},
        }
    },
}


def doc_level(spec: dict[str, Any]) -> dict[str, Any]:
    """The document as every conforming implementation must follow it: the mock's own
    choices (``x-choice``) removed, any 4xx allowed where BEHAVIOR's status is a CHOICE,
    and the Promotions reference's error shape allowed under ``/promotions``.

    The mock answers by the full document; the conformance suite judges DOC rules by
    this one, and reports departures from the full one as SHOULD notes.
    """
    spec = copy.deepcopy(spec)
    _drop_choices(spec)
    envelope = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, _, operation in iter_operations(spec):
        responses = operation["responses"]
        responses.setdefault("4XX", {"$ref": "#/components/responses/BadRequest"})
        if path.startswith("/promotions"):
            for status in [s for s in responses if s.startswith("4")]:
                response = copy.deepcopy(resolve_ref(spec, responses[status]))
                for media in response.get("content", {}).values():
                    media["schema"] = {"anyOf": [envelope, PROMOTIONS_ERRORS]}
                    media.pop("example", None)
                    media.pop("examples", None)
                responses[status] = response
    return spec


def _drop_choices(node: Any) -> None:
    if isinstance(node, dict):
        for keyword in node.pop(CHOICE_KEY, []):
            if keyword == "nullable":
                node["nullable"] = True
            else:
                node.pop(keyword, None)
        for value in node.values():
            _drop_choices(value)
    elif isinstance(node, list):
        for value in node:
            _drop_choices(value)
