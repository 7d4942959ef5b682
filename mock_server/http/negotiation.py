"""``Accept`` (406) and ``Content-Type`` (415), as BEHAVIOR.md section 5 reads them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps

_Q_VALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def _decided_per_value(decide: Callable[[str | None], bool]) -> Callable[[str | None], bool]:
    """Remember a header's decision by its value (clients send the same few). Only short
    values are remembered, at most 256 of them, so that huge or ever-new values cost no
    memory: the cache holds at most 256 x 256 characters."""
    remembered = lru_cache(maxsize=256)(decide)

    @wraps(decide)
    def decision(value: str | None) -> bool:
        return remembered(value) if value is None or len(value) <= 256 else decide(value)

    decision.cache_info = remembered.cache_info  # type: ignore[attr-defined]
    return decision


def _split_parameters(text: str) -> tuple[str, dict[str, str]]:
    """``type/subtype; a=b; c="d"`` → (``type/subtype`` lowercased, parameters)."""
    media, *raw = text.split(";")
    parameters = {}
    for item in raw:
        name, _, value = item.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        parameters[name.strip().lower()] = value
    return media.strip().lower(), parameters


@_decided_per_value
def accepts_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header lets the server answer ``application/json``.

    Missing or empty means anything. Of the ranges that match ``application/json``, the
    most specific decides (``application/json`` over ``application/*`` over ``*/*``;
    parameters other than ``q`` add no specificity); among equally specific ones the
    highest ``q`` counts, and only ``q=0`` excludes. An unparsable ``q`` makes the
    header unacceptable.
    """
    if accept is None or not accept.strip():
        return True
    best: tuple[int, float] | None = None  # (specificity, q)
    for item in accept.split(","):
        if not item.strip():
            continue
        media, parameters = _split_parameters(item)
        q_text = parameters.get("q", "1")
        if not _Q_VALUE.fullmatch(q_text):
            return False
        specificity = {"application/json": 3, "application/*": 2, "*/*": 1}.get(media)
        if specificity is None:
            continue
        candidate = (specificity, float(q_text))
        if best is None or candidate > best:
            best = candidate
    return best is not None and best[1] > 0


@_decided_per_value
def is_json_content_type(content_type: str | None) -> bool:
    """``application/json`` in any case; a ``charset``, quoted or not, must be UTF-8."""
    if not content_type:
        return False
    media, parameters = _split_parameters(content_type)
    if media != "application/json":
        return False
    charset = parameters.get("charset")
    return charset is None or charset.lower() == "utf-8"
