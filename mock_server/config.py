"""Configuration of a mock: its stores and tokens, storage, limits.

Sources, later ones winning: built-in demo defaults, a config file (YAML or JSON),
environment variables (``SEGMENTATION_MOCK_*``), command-line flags. A config file
looks like::

    stores:
      - store_hash: abc123
        token: modify-token
        readonly_token: read-token
      - store_hash: def456
        token: other-token
    rate_limit: {quota: 150, window_ms: 30000, enforce: false}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .http.ratelimit import RateLimitPolicy

DEMO_STORE_HASH = "demo"
DEMO_TOKEN = "demo-modify-token"
DEMO_READONLY_TOKEN = "demo-readonly-token"


CONTROL_BODY_BYTES = 512 * 1024 * 1024  # a seed of a million profiles is about 150 MB of JSON


@dataclass(frozen=True)
class StoreConfig:
    store_hash: str
    token: str | None = None
    readonly_token: str | None = None


@dataclass
class MockConfig:
    stores: list[StoreConfig] = field(
        default_factory=lambda: [StoreConfig(DEMO_STORE_HASH, DEMO_TOKEN, DEMO_READONLY_TOKEN)]
    )
    data_file: str | None = None
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    max_body_bytes: int = 1024 * 1024  # the API's request bodies (413 past it)
    control_body_bytes: int = CONTROL_BODY_BYTES  # the control plane's (a large seed)
    seed_file: str | None = None
    faults: dict = field(default_factory=dict)  # default fault settings for every store (see http/faults.py)
    journal_size: int = 1000
    admin_token: str | None = None  # when set, the control plane needs X-Mock-Admin-Token


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ConfigError(ValueError):
    """A configuration that cannot work, with a message for the user."""


def load_config_file(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def stores_from(data: dict[str, Any]) -> list[StoreConfig]:
    stores = []
    for index, entry in enumerate(data.get("stores", [])):
        if not isinstance(entry, dict) or not entry.get("store_hash"):
            raise ConfigError(f"stores[{index}]: needs a store_hash")
        stores.append(StoreConfig(str(entry["store_hash"]), entry.get("token"), entry.get("readonly_token")))
    return stores


def policy_from(data: dict[str, Any], base: RateLimitPolicy) -> RateLimitPolicy:
    section = data.get("rate_limit") or {}
    return RateLimitPolicy(
        quota=int(section.get("quota", base.quota)),
        window_ms=int(section.get("window_ms", base.window_ms)),
        enforce=bool(section.get("enforce", base.enforce)),
    )
