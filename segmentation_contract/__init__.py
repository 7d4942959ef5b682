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
