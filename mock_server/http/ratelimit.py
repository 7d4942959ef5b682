"""Per-store request quotas in fixed windows (BEHAVIOR.md section 8).

Every request under ``/stores/{store_hash}/v3`` counts, errors included. The headers
count down whether or not enforcement is on; only with enforcement on is the request
past the quota refused (429).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..storage.base import Storage

DEFAULT_QUOTA = 150
DEFAULT_WINDOW_MS = 30_000


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    quota: int = DEFAULT_QUOTA
    window_ms: int = DEFAULT_WINDOW_MS
    enforce: bool = False


class RateState(NamedTuple):  # a tuple: made for every request
    policy: RateLimitPolicy
    reset_ms: int
    left: int
    exceeded: bool

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-Rate-Limit-Time-Window-Ms", str(self.policy.window_ms)),
            ("X-Rate-Limit-Time-Reset-Ms", str(self.reset_ms)),
            ("X-Rate-Limit-Requests-Quota", str(self.policy.quota)),
            ("X-Rate-Limit-Requests-Left", str(self.left)),
        ]


class RateLimiter:
    def __init__(self, storage: Storage, clock: Callable[[], float], default: RateLimitPolicy | None = None):
        self.storage = storage
        self.clock = clock
        self.default = default or RateLimitPolicy()
        self.policies: dict[str, RateLimitPolicy] = {}

    def policy(self, store_hash: str) -> RateLimitPolicy:
        return self.policies.get(store_hash, self.default)

    def hit(self, store_hash: str) -> RateState:
        policy = self.policy(store_hash)
        if not self.storage.has_store(store_hash):
            # A store that does not exist gets the default quota's headers, as at the start
            # of a window, and nothing is kept for it: random store hashes cost no memory.
            return RateState(policy=policy, reset_ms=policy.window_ms, left=max(0, policy.quota - 1), exceeded=False)
        now_ms = int(self.clock() * 1000)
        start, count = self.storage.rate_hit(store_hash, now_ms, policy.window_ms)
        return RateState(
            policy=policy,
            reset_ms=max(0, start + policy.window_ms - now_ms),
            left=max(0, policy.quota - count),
            exceeded=policy.enforce and count > policy.quota,
        )
