"""Fault injection and the concurrency-limit emulation, per store.

- latency: a fixed delay or a random one in a range, before the request is handled;
- forced responses: for requests matching a method and a path prefix, answer a given
  status (and body) instead, for the next N matching requests or with a probability
  drawn from a seeded generator, so that runs are reproducible;
- the concurrency limit: operations whose document entry carries
  ``x-concurrency-limit`` answer 429 while that many of them are already in flight.

Settings live in the serving process (with several workers, set them on each or use
start-up configuration).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


class FaultSettingsError(ValueError):
    pass


@dataclass
class ForcedResponse:
    method: str  # an HTTP method or "*"
    path: str  # a prefix of the path under /stores/{hash}/v3, or "*"
    status: int
    body: Any = None
    count: int | None = None  # answer this many matching requests, then stop (None: no limit)
    probability: float | None = None  # answer each matching request with this probability
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and (self.path == "*" or path.startswith(self.path))

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("method", "path", "status", "body", "count", "probability", "seed")}


@dataclass
class StoreFaults:
    latency_ms: tuple[int, int] | None = None
    responses: list[ForcedResponse] = field(default_factory=list)
    concurrency_limit: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": list(self.latency_ms) if self.latency_ms else None,
            "responses": [r.as_dict() for r in self.responses],
            "concurrency_limit": self.concurrency_limit,
        }


def parse_faults(data: Any) -> StoreFaults:
    if not isinstance(data, dict):
        raise FaultSettingsError("faults are a mapping: {latency_ms?, responses?, concurrency_limit?}")
    latency = data.get("latency_ms")
    if latency is not None:
        low, high = (latency, latency) if isinstance(latency, (int, float)) else (tuple(latency) + (None,))[:2]
        if not all(isinstance(v, (int, float)) and v >= 0 for v in (low, high)) or low > high:
            raise FaultSettingsError("latency_ms is a number of milliseconds or [min, max]")
        latency = (int(low), int(high))
    responses = []
    for index, item in enumerate(data.get("responses") or []):
        if not isinstance(item, dict) or not isinstance(item.get("status"), int) or not 100 <= item["status"] <= 599:
            raise FaultSettingsError(f"responses[{index}] needs a status from 100 to 599")
        probability, count = item.get("probability"), item.get("count")
        if probability is not None and not (isinstance(probability, (int, float)) and 0 <= probability <= 1):
            raise FaultSettingsError(f"responses[{index}].probability is from 0 to 1")
        if count is not None and not (isinstance(count, int) and count >= 1):
            raise FaultSettingsError(f"responses[{index}].count is a positive integer")
        seed = item.get("seed")
        responses.append(
            ForcedResponse(
                method=str(item.get("method", "*")).upper(),
                path=str(item.get("path", "*")),
                status=item["status"],
                body=item.get("body"),
                count=count,
                probability=probability,
                seed=seed,
                rng=random.Random(seed),
            )
        )
    return StoreFaults(latency, responses, bool(data.get("concurrency_limit", False)))


class Faults:
    def __init__(self, default: StoreFaults | None = None):
        self.default = default or StoreFaults()
        self.by_store: dict[str, StoreFaults] = {}
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], int] = defaultdict(int)

    def of(self, store_hash: str) -> StoreFaults:
        return self.by_store.get(store_hash, self.default)

    def configured(self, store_hash: str) -> bool:
        """Whether a store has any fault set (most have none: their requests skip the rest)."""
        settings = self.of(store_hash)
        return bool(settings.latency_ms or settings.responses or settings.concurrency_limit)

    def delay_seconds(self, store_hash: str) -> float:
        latency = self.of(store_hash).latency_ms
        if not latency:
            return 0.0
        low, high = latency
        return (low if low == high else random.uniform(low, high)) / 1000

    def forced(self, store_hash: str, method: str, path: str) -> ForcedResponse | None:
        if not self.of(store_hash).responses:
            return None
        with self._lock:
            for response in self.of(store_hash).responses:
                if not response.matches(method, path) or response.count == 0:
                    continue
                if response.probability is not None and response.rng.random() >= response.probability:
                    continue
                if response.count is not None:
                    response.count -= 1
                return response
        return None

    def enter(self, store_hash: str, operation_id: str, limit: int | None) -> bool | None:
        """Count a request in: True (counted: call ``leave`` later), None (no limit applies),
        False (the store's concurrency limit is reached: refuse it)."""
        if not limit or not self.of(store_hash).concurrency_limit:
            return None
        with self._lock:
            key = (store_hash, operation_id)
            if self._in_flight[key] >= limit:
                return False
            self._in_flight[key] += 1
            return True

    def leave(self, store_hash: str, operation_id: str, limit: int | None) -> None:
        """Count out a request that ``enter`` counted in (whatever the setting is now)."""
        with self._lock:
            key = (store_hash, operation_id)
            self._in_flight[key] = max(0, self._in_flight[key] - 1)
